/**
 * Inbox resets across instances (issue 21; server/scaling/inbox-reset-lock.ts): an oversized inbox
 * is not reset by an instance while another instance has it loaded (the two copies would merge into
 * duplicates through Redis), and is reset at a load when nobody holds it. The lock makes two resets
 * of one inbox take turns.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread, readInbox } from '../../protocol/index.ts'
import { createInboxResetLock } from '../../server/scaling/inbox-reset-lock.ts'
import { createTestSchema } from '../helpers/postgres.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { rawClient, type RawClient } from '../helpers/raw.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { REDIS_URL } from '../helpers/services.ts'
import { newSecret } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

/** Small limits so that a few dozen mentions pass the reset threshold. */
const LIMIT = 5
const RESET_BYTES = 4 * 1024
const MENTIONS = 40
const IDLE_MS = 100

function clientsOf(doc: Y.Doc): Set<number> {
  return new Set(Y.decodeStateVector(Y.encodeStateVector(doc)).keys())
}

describe('inbox reset with two instances', () => {
  const servers: TestServer[] = []
  const clients: Array<TestClient | RawClient> = []
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    for (const s of servers.splice(0)) await s.dispose()
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('is not reset while another instance holds the inbox, and is reset once nobody does', async () => {
    const schema = await createTestSchema()
    cleanups.push(() => schema.drop())
    const options = {
      redisUrl: REDIS_URL,
      databaseUrl: schema.url,
      secret: newSecret(),
      apiKey: TEST_API_KEY,
      inbox: { limit: LIMIT, idleMs: IDLE_MS, resetBytes: RESET_BYTES },
    }
    const [one, two] = [await startServer(options), await startServer(options)]
    servers.push(one, two)
    // A user of its own: inbox names are not shared with other tests on the same Redis.
    const ben = `ben-${randomUUID()}`
    const inbox = `inbox/${ben}`
    const subject = `post-${randomUUID()}`
    for (const userId of ['ana', ben]) {
      await rest(one, 'PUT', `/api/v1/users/${userId}`, { bearer: TEST_API_KEY, json: { name: userId } })
      await rest(one, 'PUT', `/api/v1/subjects/${subject}/members/${userId}`, { bearer: TEST_API_KEY, json: { role: 'comment' } })
    }
    // ben's device holds the inbox on instance two while the mentions arrive.
    const onTwo = await rawClient(two.server.webSocketUrl, inbox, await two.token(ben))
    clients.push(onTwo)
    const ana = await connectSynced(one.server.webSocketUrl, `comments/${subject}`, await one.token('ana', { access: {} }))
    clients.push(ana)
    for (let i = 0; i < MENTIONS; i++) createThread({ doc: ana.doc, userId: 'ana' }, [{ text: `number ${i} ` }, { text: '@ben', mention: ben }])
    const storage = one.server.storage
    const latest = async () => (await storage.notifications.list(ben, { unreadOnly: false, limit: LIMIT, after: null })).map((n) => n.id)
    await waitFor(
      async () => (await storage.notifications.list(ben, { unreadOnly: false, limit: 100, after: null })).length === MENTIONS,
      'every mention recorded',
      20_000,
    )
    const expected = await latest()
    await waitFor(() => JSON.stringify(readInbox(onTwo.doc).map((n) => n.id)) === JSON.stringify(expected), 'instance two’s inbox up to date', 20_000)
    await waitFor(async () => (await storage.documents.storedBytes(inbox)) > RESET_BYTES, 'the stored inbox past the threshold')

    // Instance one loads the inbox while two holds it: no reset (a reset writes a fresh document
    // under a new client id), the same entries on both.
    await waitFor(() => !one.server.hocuspocus.documents.has(inbox), 'instance one’s projector let the inbox go', 15_000)
    const clientsBefore = clientsOf(onTwo.doc)
    const onOne = await rawClient(one.server.webSocketUrl, inbox, await one.token(ben))
    clients.push(onOne)
    expect(readInbox(onOne.doc).map((n) => n.id)).toEqual(expected)
    expect([...clientsOf(onOne.doc)].filter((c) => !clientsBefore.has(c))).toEqual([])
    expect(onOne.doc.getMap('notifications').size).toBe(onTwo.doc.getMap('notifications').size)

    // Nobody holds it any more: the next load resets it.
    onOne.destroy()
    onTwo.destroy()
    await waitFor(() => !one.server.hocuspocus.documents.has(inbox) && !two.server.hocuspocus.documents.has(inbox), 'the inbox unloads on both', 15_000)
    const again = await rawClient(one.server.webSocketUrl, inbox, await one.token(ben))
    clients.push(again)
    expect(readInbox(again.doc).map((n) => n.id)).toEqual(expected)
    expect(await storage.documents.storedBytes(inbox)).toBeLessThanOrEqual(RESET_BYTES)
    expect([...clientsOf(again.doc)].filter((c) => clientsBefore.has(c))).toEqual([])
  }, 60_000)

  it('runs two resets of one inbox one after the other, and none while the inbox’s channel has a subscriber', async () => {
    const redis = new Redis(REDIS_URL)
    const listener = new Redis(REDIS_URL)
    cleanups.push(async () => {
      redis.disconnect()
      listener.disconnect()
    })
    const prefix = `test-${randomUUID()}`
    const lock = createInboxResetLock(redis, prefix)
    const log: string[] = []
    const reset = (label: string) => async () => {
      log.push(`start ${label}`)
      await new Promise((resolve) => setImmediate(resolve))
      log.push(`end ${label}`)
    }
    expect(await Promise.all([lock.exclusive('inbox/x', reset('a')), lock.exclusive('inbox/x', reset('b'))])).toEqual([true, true])
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b'])

    await listener.subscribe(`${prefix}:inbox/x`)
    expect(await lock.exclusive('inbox/x', reset('c'))).toBe(false)
    expect(log).toHaveLength(4)
    // the lock was released either way
    expect(await redis.exists(`${prefix}:inbox-reset:inbox/x`)).toBe(0)
  })
})
