import { SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { createParleyClient, type ConnectionStatus, type ParleyClient } from '../../client/index.ts'
import { openSynced, sdkClient, waitAcknowledged } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

describe('connection management', () => {
  const clients: ParleyClient[] = []
  const servers: TestServer[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close()
    for (const s of servers.splice(0)) await s.dispose()
  })

  it('reports connecting, connected and offline, and counts what is still sending', async () => {
    const s = await startServer()
    servers.push(s)
    const client = await sdkClient(s, 'ana')
    clients.push(client)
    const statuses: ConnectionStatus[] = []
    client.on('status', (status) => statuses.push(status))
    const handle = await openSynced(client, 'status')
    expect(client.status).toBe('connected')
    client.disconnect()
    await waitFor(() => client.status === 'offline', 'offline')
    const sendingCounts: number[] = []
    client.on('sending', (n) => sendingCounts.push(n))
    handle.createThread('written offline')
    expect(handle.sending).toBeGreaterThan(0)
    expect(client.sending).toBe(handle.sending)
    client.connect()
    await waitAcknowledged(handle)
    expect(client.sending).toBe(0)
    expect(statuses).toContain('offline')
    expect(statuses.at(-1)).toBe('connected')
    expect(sendingCounts.at(-1)).toBe(0)
  })

  it('spreads reconnects after a server restart with full jitter from the first retry', async () => {
    const first = await startServer()
    const { port } = first.server
    const clientCount = 16
    const baseDelayMs = 1_000
    for (let i = 0; i < clientCount; i++) {
      const client = await createParleyClient({
        url: first.server.webSocketUrl,
        token: await first.token(`u${i}`),
        reconnect: { baseDelayMs, maxDelayMs: 2_000 },
      })
      clients.push(client)
      await openSynced(client, 'jitter')
    }
    const reconnectedAt = new Map<number, number>()
    clients.forEach((client, i) =>
      client.on('status', (status) => {
        if (status === 'connected' && !reconnectedAt.has(i)) reconnectedAt.set(i, Date.now())
      }),
    )
    await first.stop()
    await waitFor(() => clients.every((c) => c.status !== 'connected'), 'every client noticed the close')
    const second = await startServer({ port, dataDir: first.dataDir, secret: first.secret })
    servers.push(second)
    const restartedAt = Date.now()
    await waitFor(() => reconnectedAt.size === clientCount, 'every client reconnected', 15_000)
    const offsets = [...reconnectedAt.values()].map((t) => t - restartedAt).sort((a, b) => a - b)
    // With a fixed first delay they would all arrive within a few ms of each other.
    expect(offsets.at(-1)! - offsets[0]!).toBeGreaterThan(baseDelayMs / 4)
  }, 30_000)

  it('calls the token function again when the token has expired', async () => {
    const s = await startServer()
    servers.push(s)
    let calls = 0
    const token = async () => {
      calls++
      // The first token is already expired; the ones after are fresh.
      const exp = calls === 1 ? Math.floor(Date.now() / 1000) - 60 : Math.floor(Date.now() / 1000) + 600
      return new SignJWT({ access: { '*': 'comment' } })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('ana')
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(s.secret))
    }
    const client = await createParleyClient({ url: s.server.webSocketUrl, token, userId: 'ana' })
    clients.push(client)
    const handle = await openSynced(client, 'expiry')
    expect(calls).toBeGreaterThanOrEqual(2)
    handle.createThread('after a refresh')
    await waitAcknowledged(handle)
  })

  it('reports a refusal as an error event with its code', async () => {
    const s = await startServer()
    servers.push(s)
    const client = await createParleyClient({ url: s.server.webSocketUrl, token: await s.token('ana', { access: { 'comments/mine': 'comment' } }) })
    clients.push(client)
    const errors: string[] = []
    client.on('error', (e) => errors.push(`${e.code} ${e.documentName}`))
    client.comments('theirs')
    await waitFor(() => errors.length > 0, 'an error event')
    expect(errors[0]).toBe('forbidden comments/theirs')
  })
})
