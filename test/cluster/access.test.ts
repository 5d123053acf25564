/**
 * Access changes across instances (issue 21; server/scaling/access-bus.ts): two instances on one
 * PostgreSQL schema and Redis. A role lowered or a ban set through one instance reaches the user's
 * sockets on the other within a second; and when the announcement is lost, the other instance
 * finds out from the access generation and resolves the connection again before applying its next
 * message.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { addThread } from '../helpers/comments.ts'
import { createTestSchema } from '../helpers/postgres.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { REDIS_URL } from '../helpers/services.ts'
import { newSecret } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'
import { watchedClient, type WatchedClient } from '../access/clients.ts'
import { ACCESS_GENERATION_POLL_MS } from '../../server/scaling/access-bus.ts'

/** The bound for a revocation: a second. */
const ANNOUNCED_DEADLINE_MS = 1_000

describe('access changes across two instances', () => {
  const servers: TestServer[] = []
  const clients: WatchedClient[] = []
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    for (const s of servers.splice(0)) await s.dispose()
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  async function cluster() {
    const schema = await createTestSchema()
    cleanups.push(() => schema.drop())
    const options = { redisUrl: REDIS_URL, databaseUrl: schema.url, secret: newSecret(), apiKey: TEST_API_KEY }
    const [one, two] = [await startServer(options), await startServer(options)]
    servers.push(one, two)
    return { one, two }
  }
  const watch = async (s: TestServer, name: string, token: string) => {
    const client = await watchedClient(s.server.webSocketUrl, name, token)
    clients.push(client)
    return client
  }
  const revokedClose = (client: WatchedClient) => client.closes.find((close) => close.reason === 'access_revoked')
  const connectionOf = (s: TestServer, name: string, userId: string) =>
    s.server.hocuspocus.documents
      .get(name)
      ?.getConnections()
      .find((c) => (c.context as { user?: { id: string } }).user?.id === userId)

  it('a role lowered through one instance closes the user’s socket on the other within a second', async () => {
    const { one, two } = await cluster()
    const subject = `room-${randomUUID()}`
    const name = `comments/${subject}`
    expect((await rest(one, 'PUT', `/api/v1/subjects/${subject}/members/ana`, { bearer: TEST_API_KEY, json: { role: 'comment' } })).status).toBe(200)
    const ana = await watch(two, name, await two.token('ana', { access: {} }))
    expect(ana.provider.authorizedScope).toBe('read-write')

    const started = Date.now()
    const lowered = await rest<{ closedConnections: number }>(one, 'PUT', `/api/v1/subjects/${subject}/members/ana`, {
      bearer: TEST_API_KEY,
      json: { role: 'read' },
    })
    // closedConnections counts the answering instance's own connections
    expect(lowered.body.closedConnections).toBe(0)
    await waitFor(() => revokedClose(ana) !== undefined, 'ana’s socket on the other instance closed', ANNOUNCED_DEADLINE_MS)
    expect(revokedClose(ana)!.at - started).toBeLessThan(ANNOUNCED_DEADLINE_MS)
    expect(ana.errors[0]).toMatchObject({ code: 'access_revoked', documentName: name })
  })

  it('a ban through one instance makes the user’s session on the other read-only, and lifting it restores it', async () => {
    const { one, two } = await cluster()
    const subject = `board-${randomUUID()}`
    const name = `comments/${subject}`
    const ben = await watch(two, name, await two.token('ben', { access: { [name]: 'comment' } }))
    expect(connectionOf(two, name, 'ben')?.readOnly).toBe(false)

    const ban = await rest(one, 'PUT', `/api/v1/subjects/${subject}/bans/ben`, { bearer: TEST_API_KEY, json: { reason: 'spam' } })
    expect(ban.status).toBe(200)
    await waitFor(() => connectionOf(two, name, 'ben')?.readOnly === true, 'ben read-only on the other instance', ANNOUNCED_DEADLINE_MS)
    expect(ben.closes).toEqual([])

    expect((await rest(one, 'DELETE', `/api/v1/subjects/${subject}/bans/ben`, { bearer: TEST_API_KEY })).status).toBe(200)
    await waitFor(() => connectionOf(two, name, 'ben')?.readOnly === false, 'ben writable again on the other instance', ANNOUNCED_DEADLINE_MS)
    addThread(ben.doc, 'after-the-ban', 'ben')
    await waitFor(() => ben.provider.unsyncedChanges === 0, 'ben’s write acknowledged')
  })

  it('a lost announcement: the other instance resolves the connection again before applying its next message', async () => {
    const { one, two } = await cluster()
    const subject = `quiet-${randomUUID()}`
    const name = `comments/${subject}`
    await one.server.storage.subjects.putMember(subject, 'cid', 'comment')
    const cid = await watch(two, name, await two.token('cid', { access: {} }))
    addThread(cid.doc, 'before', 'cid')
    await waitFor(() => cid.provider.unsyncedChanges === 0, 'cid’s first write acknowledged')

    // The role is lowered and the generation moves, but no message is published: as if it was lost.
    await one.server.storage.subjects.putMember(subject, 'cid', 'read')
    const redis = new Redis(REDIS_URL)
    cleanups.push(async () => void redis.disconnect())
    await redis.incr('parley:access:generation')
    const changedAt = Date.now()
    // Two reads of the generation at most, then the next message is checked.
    // cid keeps writing; what the instance applied before it found out is the documented window.
    const written: string[] = []
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 3 * ACCESS_GENERATION_POLL_MS + 2_000
      const tick = () => {
        if (revokedClose(cid) !== undefined) return resolve()
        written.push(`after-${written.length}`)
        addThread(cid.doc, written.at(-1)!, 'cid')
        if (Date.now() > deadline) reject(new Error('cid was never resolved again'))
        else setTimeout(tick, 200)
      }
      tick()
    })
    expect(Date.now() - changedAt).toBeLessThan(3 * ACCESS_GENERATION_POLL_MS + 2_000)
    expect(cid.errors[0]).toMatchObject({ code: 'access_revoked', documentName: name })
    // The message that found the change was not applied, nor anything after it: the stored threads
    // are the first write and a prefix of the later ones, without the last.
    const reader = await one.token('reader', { access: { [name]: 'read' } })
    const stored = (await rest<{ threads: Array<{ id: string }> }>(one, 'GET', `/api/v1/subjects/${subject}/threads`, { bearer: reader })).body.threads.map(
      (t) => t.id,
    )
    expect(stored[0]).toBe('before')
    expect(stored.slice(1)).toEqual(written.slice(0, stored.length - 1))
    expect(stored.length - 1).toBeLessThan(written.length)
  })
})
