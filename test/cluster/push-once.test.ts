/**
 * Work once across instances (issue 21): three instances on one PostgreSQL schema and Redis, the
 * comments document open on all three, the recipient's device registered through another
 * instance than the writer's. The mention is recorded once and pushed once through the local
 * APNs peer (HTTP/2 + TLS): outbox rows are claimed by one instance at a time.
 */
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createThread, threadsMap } from '../../protocol/index.ts'
import { startApnsPeer, type ApnsPeer } from '../helpers/apns-peer.ts'
import { createTestSchema } from '../helpers/postgres.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { REDIS_URL } from '../helpers/services.ts'
import { newSecret } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

describe('a mention with three instances', () => {
  const servers: TestServer[] = []
  const clients: TestClient[] = []
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    for (const s of servers.splice(0)) await s.dispose()
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('is recorded once and pushed once to the device', async () => {
    const peer: ApnsPeer = await startApnsPeer()
    cleanups.push(() => peer.close())
    const schema = await createTestSchema()
    cleanups.push(() => schema.drop())
    const keyFile = path.join(tempDir('parley-apns-'), 'key.p8')
    writeFileSync(keyFile, peer.key)
    const options = {
      redisUrl: REDIS_URL,
      databaseUrl: schema.url,
      secret: newSecret(),
      apiKey: TEST_API_KEY,
      push: {
        apns: { keyFile, keyId: peer.keyId, teamId: peer.teamId, topic: peer.topic, production: false, host: '127.0.0.1', port: peer.port },
        webPush: undefined,
        fcm: undefined,
      },
      delivery: { ca: [peer.ca] },
    }
    for (let i = 0; i < 3; i++) servers.push(await startServer(options))
    const [one, two, three] = servers as [TestServer, TestServer, TestServer]
    const subject = `launch-${randomUUID()}`
    const name = `comments/${subject}`
    for (const userId of ['ana', 'ben', 'cid', 'dan']) {
      expect((await rest(one, 'PUT', `/api/v1/users/${userId}`, { bearer: TEST_API_KEY, json: { name: userId.toUpperCase(), handle: userId } })).status).toBe(
        200,
      )
      expect((await rest(one, 'PUT', `/api/v1/subjects/${subject}/members/${userId}`, { bearer: TEST_API_KEY, json: { role: 'comment' } })).status).toBe(200)
    }
    const device = await rest<{ id: string }>(two, 'POST', '/api/v1/devices', { bearer: await two.token('ben'), json: { platform: 'apns', token: 'b0b0b0' } })
    expect(device.status).toBe(201)

    // The document is loaded on every instance: each one sees the mention's update.
    const ana = await connectSynced(one.server.webSocketUrl, name, await one.token('ana', { access: {} }))
    const cid = await connectSynced(two.server.webSocketUrl, name, await two.token('cid', { access: {} }))
    const dan = await connectSynced(three.server.webSocketUrl, name, await three.token('dan', { access: {} }))
    clients.push(ana, cid, dan)
    const { threadId } = createThread({ doc: ana.doc, userId: 'ana' }, [{ text: 'ship it ' }, { text: '@Ben', mention: 'ben' }])
    await waitFor(() => threadsMap(cid.doc).has(threadId) && threadsMap(dan.doc).has(threadId), 'the thread on every instance')

    const storage = one.server.storage
    const notes = async () => (await storage.notifications.list('ben', { unreadOnly: false, limit: 10, after: null })).filter((n) => n.kind === 'mention')
    await waitFor(async () => (await notes()).length === 1, 'ben’s mention recorded')
    const [note] = await notes()
    // Every channel's outbox row delivered and the push recorded as sent: no instance has it left to send.
    await waitFor(async () => {
      const rows = await storage.notifications.outboxOf('ben', note!.id)
      const sent = (await storage.deliveries.ofNotification('ben', note!.id)).filter((d) => d.status === 'sent')
      return rows.length > 0 && rows.every((r) => r.status === 'delivered') && sent.length === 1
    }, 'the mention delivered on every channel')
    expect(await notes()).toHaveLength(1)
    const pushes = peer.requests.filter((r) => r.token === 'b0b0b0')
    expect(pushes).toHaveLength(1)
    expect(pushes[0]?.payload.aps.alert).toEqual({ title: 'ANA mentioned you', body: 'ship it @Ben' })
    expect(pushes[0]?.headers['apns-collapse-id']).toBe(note!.id)
  }, 60_000)
})
