/**
 * Presence across instances: a user connected to instance two is online and present when asked on
 * instance one (REST and the `isPresent` that push and email ask), shows offline with a last-seen
 * time after leaving, and a dead instance's users disappear within the entry expiry.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestSchema } from '../helpers/postgres.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { rest } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { closedPort, REDIS_URL } from '../helpers/services.ts'
import { newSecret } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

/** Scaled-down cluster timing: beats every 200 ms, entries expire after 1 s. */
const HEARTBEAT_MS = 200
const ENTRY_TTL_MS = 1_000

interface UserAnswer {
  userId: string
  online: boolean
  lastSeenAt: number | null
}
interface SubjectAnswer {
  subjectId: string
  users: Array<{ id: string; status: string; clients: number }>
}

describe('presence across instances (REDIS_URL)', () => {
  const servers: TestServer[] = []
  const clients: TestClient[] = []
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    for (const s of servers.splice(0)) await s.dispose()
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  async function twoInstances(abandonTwo?: AbortSignal) {
    const schema = await createTestSchema()
    cleanups.push(() => schema.drop())
    const secret = newSecret()
    const prefix = `parley-test:${randomUUID()}:presence`
    const cluster = { prefix, heartbeatMs: HEARTBEAT_MS, entryTtlMs: ENTRY_TTL_MS }
    const start = async (abandon?: AbortSignal) => {
      const server = await startServer({ redisUrl: REDIS_URL, databaseUrl: schema.url, secret, clusterPresence: { ...cluster, abandon } })
      servers.push(server)
      return server
    }
    const one = await start()
    const two = await start(abandonTwo)
    return { one, two, start, prefix }
  }

  async function joinActive(server: TestServer, subjectId: string, userId: string): Promise<TestClient> {
    const client = await connectSynced(server.server.webSocketUrl, `comments/${subjectId}`, await server.token(userId))
    clients.push(client)
    client.provider.setAwarenessField('user', { id: userId, name: userId.toUpperCase() })
    client.provider.setAwarenessField('status', 'active')
    return client
  }

  const userOn = async (server: TestServer, userId: string) =>
    (await rest<UserAnswer>(server, 'GET', `/api/v1/users/${userId}/presence`, { bearer: await server.token('ana') })).body
  const subjectOn = async (server: TestServer, subjectId: string) =>
    (await rest<SubjectAnswer>(server, 'GET', `/api/v1/subjects/${subjectId}/presence`, { bearer: await server.token('ben') })).body

  it('a user on instance two is online and present on instance one, then offline with a last-seen time', async () => {
    const { one, two } = await twoInstances()
    const subjectId = `presence-${randomUUID()}`
    const before = Date.now()
    const ben = await joinActive(two, subjectId, 'ben')

    await waitFor(async () => (await subjectOn(one, subjectId)).users.length === 1, 'instance one lists ben')
    expect((await subjectOn(one, subjectId)).users).toEqual([{ id: 'ben', name: 'ben', status: 'active', typing: null, clients: 1 }])
    expect(await userOn(one, 'ben')).toMatchObject({ userId: 'ben', online: true })
    // What the delivery policy asks before a push or an email.
    expect(await one.server.presence.isPresent('ben', `comments/${subjectId}`)).toBe(true)
    // Nobody opened the document on instance one: the answers came from instance two through Redis.
    expect(one.server.hocuspocus.documents.has(`comments/${subjectId}`)).toBe(false)

    ben.destroy()
    await waitFor(async () => !(await userOn(one, 'ben')).online, 'instance one shows ben offline')
    const gone = await userOn(one, 'ben')
    expect(gone.lastSeenAt).not.toBeNull()
    expect(gone.lastSeenAt ?? 0).toBeGreaterThanOrEqual(before)
    await waitFor(async () => (await subjectOn(one, subjectId)).users.length === 0, 'ben left the subject')
    expect(await one.server.presence.isPresent('ben', `comments/${subjectId}`)).toBe(false)
  }, 30_000)

  it('merges users of both instances and keeps the last-seen time after both restart', async () => {
    const { one, two, start, prefix } = await twoInstances()
    const subjectId = `presence-merge-${randomUUID()}`
    await joinActive(one, subjectId, 'ana')
    await joinActive(two, subjectId, 'ben')
    await joinActive(two, subjectId, 'ana')
    await waitFor(async () => (await subjectOn(one, subjectId)).users.length === 2, 'both users on instance one')
    await waitFor(async () => (await subjectOn(one, subjectId)).users[0]?.clients === 2, 'ana counted on both instances')
    expect((await subjectOn(two, subjectId)).users.map((user) => [user.id, user.clients])).toEqual([
      ['ana', 2],
      ['ben', 1],
    ])

    // Both instances stop (gracefully): they delete their entries (no waiting for the expiry); the last-seen times stay.
    for (const c of clients.splice(0)) c.destroy()
    await one.stop()
    await two.stop()
    const redis = new Redis(REDIS_URL)
    cleanups.push(async () => redis.disconnect())
    expect(await redis.exists(`${prefix}:doc:comments/${subjectId}`, `${prefix}:user:ana`, `${prefix}:user:ben`)).toBe(0)
    const three = await start()
    expect(await userOn(three, 'ben')).toMatchObject({ online: false, lastSeenAt: expect.any(Number) })
    expect(await userOn(three, 'ana')).toMatchObject({ online: false, lastSeenAt: expect.any(Number) })
    expect((await subjectOn(three, subjectId)).users).toEqual([])
  }, 30_000)

  it('a dead instance (heartbeats stopped) disappears within the entry expiry', async () => {
    const abandon = new AbortController()
    const { one, two } = await twoInstances(abandon.signal)
    const subjectId = `presence-dead-${randomUUID()}`
    await joinActive(two, subjectId, 'ben')
    await waitFor(async () => (await userOn(one, 'ben')).online && (await subjectOn(one, subjectId)).users.length === 1, 'ben online via two')

    abandon.abort()
    const stoppedAt = Date.now()
    // Ben's socket to instance two stays open: only its presence entries stop being renewed.
    await waitFor(
      async () => !(await userOn(one, 'ben')).online && (await subjectOn(one, subjectId)).users.length === 0,
      'ben gone from instance one',
      ENTRY_TTL_MS + 3_000,
    )
    const took = Date.now() - stoppedAt
    // The bound is the expiry; the margin covers the polling (two REST calls per look).
    expect(took).toBeLessThanOrEqual(ENTRY_TTL_MS + 1_000)
    expect(await one.server.presence.isPresent('ben', `comments/${subjectId}`)).toBe(false)
    // Instance two still sees ben locally.
    expect(await two.server.presence.isPresent('ben', `comments/${subjectId}`)).toBe(true)
  }, 30_000)

  it('while Redis is away, answers at once from the instance itself and counts the failures', async () => {
    const s = await startServer({ redisUrl: `redis://127.0.0.1:${await closedPort()}`, clusterPresence: { heartbeatMs: HEARTBEAT_MS } })
    servers.push(s)
    const subjectId = `presence-away-${randomUUID()}`
    await joinActive(s, subjectId, 'ben')
    await waitFor(async () => (await subjectOn(s, subjectId)).users.length === 1, 'ben present on his own instance')
    const started = Date.now()
    expect(await userOn(s, 'ben')).toMatchObject({ online: true, lastSeenAt: expect.any(Number) })
    expect(await s.server.presence.isPresent('ben', `comments/${subjectId}`)).toBe(true)
    // No waiting for Redis: a few local reads, well under one ioredis retry.
    expect(Date.now() - started).toBeLessThan(1_000)
    const metrics = await (await fetch(`${s.server.httpUrl}/metrics`)).text()
    expect(metrics).toMatch(/parley_hook_errors_total\{hook="clusterPresence:(document|flush)"\} [1-9]/)
  }, 30_000)
})
