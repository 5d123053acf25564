/**
 * `PARLEY_CORS_ORIGINS` (contract additions, "Environment"): a listed origin's preflight and
 * request to a user route succeed with the origin echoed (never `*`); another origin gets no
 * `Access-Control-Allow-Origin`; backend (API-key) routes refuse cross-origin preflights.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../server/config.ts'
import { TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const APP = 'https://app.example.com'
const OTHER = 'https://evil.example.net'

function preflight(s: TestServer, path: string, origin: string, method: string): Promise<Response> {
  return fetch(`${s.server.httpUrl}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
  })
}

describe('CORS for browser apps on another origin', () => {
  let s: TestServer
  let plain: TestServer
  beforeAll(async () => {
    s = await startServer({ apiKey: TEST_API_KEY, corsOrigins: [APP, 'http://localhost:5173'] })
    plain = await startServer({ apiKey: TEST_API_KEY })
    await fetch(`${s.server.httpUrl}/api/v1/subjects/cors`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ defaultRole: 'comment' }),
    })
  })
  afterAll(async () => {
    await s.dispose()
    await plain.dispose()
  })

  it('answers an allowed origin’s preflight and request on user routes, echoing the origin', async () => {
    const answer = await preflight(s, '/api/v1/subjects/cors/threads', APP, 'POST')
    expect(answer.status).toBe(204)
    expect(answer.headers.get('access-control-allow-origin')).toBe(APP)
    expect(answer.headers.get('access-control-allow-methods')?.split(', ')).toEqual(expect.arrayContaining(['GET', 'POST']))
    expect(answer.headers.get('access-control-allow-headers')?.split(', ')).toEqual(expect.arrayContaining(['authorization', 'content-type']))
    expect(answer.headers.get('vary')).toMatch(/origin/i)

    const posted = await fetch(`${s.server.httpUrl}/api/v1/subjects/cors/threads`, {
      method: 'POST',
      headers: { origin: APP, authorization: `Bearer ${await s.token('ana')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'from the browser' }),
    })
    expect(posted.status).toBe(201)
    expect(posted.headers.get('access-control-allow-origin')).toBe(APP)
    // Errors carry it too, so the app can read them.
    const refused = await fetch(`${s.server.httpUrl}/api/v1/notifications`, { headers: { origin: APP } })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('access-control-allow-origin')).toBe(APP)
  })

  it('gives another origin no Access-Control-Allow-Origin', async () => {
    const answer = await preflight(s, '/api/v1/subjects/cors/threads', OTHER, 'POST')
    expect(answer.headers.get('access-control-allow-origin')).toBeNull()
    expect(answer.status).toBe(403)
    const listed = await fetch(`${s.server.httpUrl}/api/v1/subjects/cors/threads`, {
      headers: { origin: OTHER, authorization: `Bearer ${await s.token('ana')}` },
    })
    expect(listed.status).toBe(200)
    expect(listed.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('refuses cross-origin preflights to backend routes, even from an allowed origin', async () => {
    for (const [path, method] of [
      ['/api/v1/subjects/cors/members/ana', 'PUT'],
      ['/api/v1/subjects/cors', 'PUT'],
      ['/api/v1/users/ana', 'PUT'],
    ] as const) {
      const answer = await preflight(s, path, APP, method)
      expect([path, answer.status, answer.headers.get('access-control-allow-origin')]).toEqual([path, 403, null])
    }
    const put = await fetch(`${s.server.httpUrl}/api/v1/users/ana`, {
      method: 'PUT',
      headers: { origin: APP, authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ana', handle: 'ana' }),
    })
    expect(put.status).toBe(200)
    expect(put.headers.get('access-control-allow-origin')).toBeNull()
    // A route open to users and the backend: a user's call is readable cross-origin, the API key's is not.
    const asUser = await fetch(`${s.server.httpUrl}/api/v1/subjects/cors/presence`, {
      headers: { origin: APP, authorization: `Bearer ${await s.token('ana')}` },
    })
    expect([asUser.status, asUser.headers.get('access-control-allow-origin')]).toEqual([200, APP])
    const asBackend = await fetch(`${s.server.httpUrl}/api/v1/subjects/cors/presence`, { headers: { origin: APP, authorization: `Bearer ${TEST_API_KEY}` } })
    expect([asBackend.status, asBackend.headers.get('access-control-allow-origin')]).toEqual([200, null])
  })

  it('allows no origin at all when PARLEY_CORS_ORIGINS is unset', async () => {
    const answer = await preflight(plain, '/api/v1/notifications', APP, 'GET')
    expect(answer.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('reads PARLEY_CORS_ORIGINS and PARLEY_REPORT_THRESHOLD, refusing bad values with one line naming the variable', () => {
    expect(loadConfig({})).toMatchObject({ ok: true, value: { corsOrigins: [], reportThreshold: 3 } })
    expect(loadConfig({ PARLEY_CORS_ORIGINS: `${APP}, http://localhost:5173`, PARLEY_REPORT_THRESHOLD: '5' })).toMatchObject({
      ok: true,
      value: { corsOrigins: [APP, 'http://localhost:5173'], reportThreshold: 5 },
    })
    for (const [variable, value] of [
      ['PARLEY_CORS_ORIGINS', '*'],
      ['PARLEY_CORS_ORIGINS', 'https://app.example.com/path'],
      ['PARLEY_CORS_ORIGINS', 'app.example.com'],
      ['PARLEY_REPORT_THRESHOLD', '0'],
      ['PARLEY_REPORT_THRESHOLD', 'many'],
    ] as const) {
      const loaded = loadConfig({ [variable]: value })
      expect(loaded.ok).toBe(false)
      if (!loaded.ok) expect(loaded.error).toMatch(new RegExp(`^invalid ${variable}: [^\\n]+$`))
    }
  })
})
