/**
 * Contract additions, "SDK": `client.inbox()` shares the client's one socket with its comments,
 * announces changes of its live list, and is offline-safe like comments: marks made while the server is down are kept in the local
 * store across an app restart and reach the server (and REST) when it returns.
 */
import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { createParleyClient, type ParleyClient } from '../../client/index.ts'
import { FileStore } from '../../client/stores/file.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { openSynced, sdkClient, TEST_RECONNECT } from '../helpers/sdk.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

describe('the SDK inbox on one socket, across an app restart', () => {
  const clients: ParleyClient[] = []
  const servers: TestServer[] = []
  const dirs: string[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close()
    for (const s of servers.splice(0)) await s.dispose()
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('shares the socket with comments; marks made offline survive a restart and reach the server', async () => {
    const first = await startServer({ apiKey: TEST_API_KEY })
    servers.push(first)
    for (const userId of ['ana', 'ben']) {
      expect((await rest(first, 'PUT', `/api/v1/subjects/post-1/members/${userId}`, { bearer: TEST_API_KEY, json: { role: 'comment' } })).status).toBe(200)
    }
    const ana = await sdkClient(first, 'ana')
    clients.push(ana)
    const post = await openSynced(ana, 'post-1')

    const storeDir = tempDir('parley-inbox-store-')
    dirs.push(storeDir)
    const benToken = await first.token('ben')
    let upgrades = 0
    first.server.httpServer.on('upgrade', () => upgrades++)
    const phone = await createParleyClient({ url: first.server.webSocketUrl, token: benToken, store: new FileStore(storeDir), reconnect: TEST_RECONNECT })
    const inbox = phone.inbox()
    await inbox.whenSynced()
    await openSynced(phone, 'post-1')
    // The inbox and the comments travel on the client's one socket.
    expect(upgrades).toBe(1)

    const changes: number[] = []
    inbox.on('change', (notifications) => changes.push(notifications.length))
    post.createThread([{ text: '@Ben', mention: 'ben' }, { text: ' one' }])
    post.createThread([{ text: '@Ben', mention: 'ben' }, { text: ' two' }])
    await waitFor(() => inbox.notifications().length === 2, 'both on the phone')
    // The live list announces its changes.
    await waitFor(() => changes.at(-1) === 2, 'a change event with both')
    const [newest, oldest] = inbox.notifications()

    // The server goes away; the phone reads one, archives the other, marks all seen, and is closed.
    const { port } = first.server
    const { dataDir, secret } = first
    await ana.close()
    clients.splice(clients.indexOf(ana), 1)
    await first.stop()
    servers.splice(0)
    await waitFor(() => phone.status === 'offline', 'the phone offline')
    inbox.markRead(newest!.id)
    inbox.archive(oldest!.id)
    inbox.markSeen()
    expect(inbox.counts()).toEqual({ unread: 0, unseen: 0 })
    expect(inbox.sending).toBeGreaterThan(0)
    await phone.close()

    // The app starts again over the same store: the marks are there before the server is back.
    const restarted = await createParleyClient({ url: `ws://127.0.0.1:${port}`, token: benToken, store: new FileStore(storeDir), reconnect: TEST_RECONNECT })
    clients.push(restarted)
    const again = restarted.inbox()
    await waitFor(() => again.notifications({ archived: true }).length === 1, 'the archive read from the store')
    expect(again.notifications().map((n) => n.id)).toEqual([newest!.id])
    expect(again.counts()).toEqual({ unread: 0, unseen: 0 })

    const second = await startServer({ apiKey: TEST_API_KEY, dataDir, secret, port })
    servers.push(second)
    await waitFor(() => again.sending === 0 && restarted.status === 'connected', 'the offline marks acknowledged')
    const ben = await second.token('ben')
    await waitFor(
      async () => (await rest<{ count: number; unseen: number }>(second, 'GET', '/api/v1/notifications/unread-count', { bearer: ben })).body.count === 0,
      'REST sees the marks',
    )
    expect((await rest(second, 'GET', '/api/v1/notifications/unread-count', { bearer: ben })).body).toEqual({ count: 0, unseen: 0 })
    const archived = await rest<{ notifications: Array<{ id: string; readAt: number | null }> }>(second, 'GET', '/api/v1/notifications?archived=true', {
      bearer: ben,
    })
    expect(archived.body.notifications.map((n) => n.id)).toEqual([oldest!.id])
    const listed = await rest<{ notifications: Array<{ id: string; readAt: number | null; seenAt: number | null }> }>(second, 'GET', '/api/v1/notifications', {
      bearer: ben,
    })
    expect(listed.body.notifications).toMatchObject([{ id: newest!.id, readAt: expect.any(Number), seenAt: expect.any(Number) }])
  }, 30_000)
})
