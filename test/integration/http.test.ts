import { afterEach, describe, expect, it } from 'vitest'
import { startServer, type TestServer } from '../helpers/server.ts'

describe('HTTP routes', () => {
  const servers: TestServer[] = []
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.dispose()
  })
  async function server(options: Parameters<typeof startServer>[0] = {}) {
    const s = await startServer(options)
    servers.push(s)
    return s
  }

  it('GET /health answers ok', async () => {
    const s = await server()
    const res = await fetch(`${s.server.httpUrl}/health`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
  })

  it('GET /ready is 200 while storage answers, 503 naming storage when it does not', async () => {
    const s = await server()
    const ok = await fetch(`${s.server.httpUrl}/ready`)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ status: 'ready', checks: { storage: { ok: true } } })
    // Close the storage under the running server: the check fails for real.
    await s.server.storage.close()
    const down = await fetch(`${s.server.httpUrl}/ready`)
    expect(down.status).toBe(503)
    const body = (await down.json()) as { checks: { storage: { ok: boolean } }; error: { code: string; message: string } }
    expect(body.checks.storage.ok).toBe(false)
    expect(body.error).toMatchObject({ code: 'not_ready' })
    expect(body.error.message).toContain('storage')
  })

  it('answers unknown routes with a JSON error in the contract shape', async () => {
    const s = await server()
    const res = await fetch(`${s.server.httpUrl}/api/v1/nothing-here`)
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: expect.stringContaining('/api/v1/nothing-here') } })
  })

  it('serves /metrics, behind the bearer token when one is configured', async () => {
    const open = await server()
    const text = await (await fetch(`${open.server.httpUrl}/metrics`)).text()
    expect(text).toMatch(/^# HELP parley_connections /m)
    const locked = await server({ metricsToken: 'metrics-secret' })
    const refused = await fetch(`${locked.server.httpUrl}/metrics`)
    expect(refused.status).toBe(401)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('token_invalid')
    const allowed = await fetch(`${locked.server.httpUrl}/metrics`, { headers: { authorization: 'Bearer metrics-secret' } })
    expect(allowed.status).toBe(200)
  })
})
