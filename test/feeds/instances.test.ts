/**
 * Feeds across two instances on PostgreSQL + Redis: the comment enters (and fans out) on instance
 * one, and a follower whose feed document is open on instance two sees the item live. With the
 * feed open on both instances, each shows every item exactly once.
 */
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { createThread, readFeed, reply, setFollowing } from '../../protocol/index.ts'
import { createTestSchema } from '../helpers/postgres.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { REDIS_URL } from '../helpers/services.ts'
import { newSecret } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'
import { TEST_WINDOWS } from './setup.ts'

describe('feeds on two instances (PostgreSQL + Redis)', () => {
  const servers: TestServer[] = []
  const clients: TestClient[] = []
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    for (const s of servers.splice(0)) await s.dispose()
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  async function twoInstances(): Promise<[TestServer, TestServer]> {
    const schema = await createTestSchema()
    cleanups.push(() => schema.drop())
    const secret = newSecret()
    const options = { redisUrl: REDIS_URL, databaseUrl: schema.url, secret, feeds: { windows: TEST_WINDOWS } }
    const one = await startServer(options)
    const two = await startServer(options)
    servers.push(one, two)
    return [one, two]
  }

  async function open(server: TestServer, name: string, userId: string): Promise<TestClient> {
    const client = await connectSynced(server.server.webSocketUrl, name, await server.token(userId))
    clients.push(client)
    return client
  }

  /** Item ids of the feed document, newest last. */
  const ids = (client: TestClient) => readFeed(client.doc).map((item) => item.id)

  it('an activity fanned out on instance one reaches a feed open only on instance two, live', async () => {
    const [one, two] = await twoInstances()
    const subject = `feeds-${randomUUID()}`
    const ben = await open(one, `comments/${subject}`, 'ben')
    setFollowing({ doc: ben.doc, userId: 'ben' }, true)
    await acknowledged(ben)
    const feed = await open(two, 'feed/user:ben', 'ben')
    const subjectFeed = await open(two, `feed/subject:${subject}`, 'cy')
    expect(one.server.hocuspocus.documents.has('feed/user:ben')).toBe(false)

    const ana = await open(one, `comments/${subject}`, 'ana')
    await waitFor(() => ana.doc.getMap('followers').get('ben') === 'follower', 'ana sees ben follow')
    const { threadId } = createThread({ doc: ana.doc, userId: 'ana' }, 'a new topic')
    await acknowledged(ana)
    await waitFor(() => readFeed(feed.doc).length === 1, 'the thread in ben’s feed on instance two')
    expect(readFeed(feed.doc)[0]).toMatchObject({ type: 'thread', actorIds: ['ana'], subjectId: subject })
    await waitFor(() => readFeed(subjectFeed.doc).length === 1, 'the thread in the subject feed on instance two')

    reply({ doc: ana.doc, userId: 'ana' }, threadId, 'more')
    await acknowledged(ana)
    await waitFor(() => readFeed(feed.doc).some((item) => item.type === 'comment'), 'the reply in ben’s feed on instance two')
    expect(one.server.hocuspocus.documents.has('feed/user:ben')).toBe(false)
  })

  it('a feed open on both instances shows each item once', async () => {
    const [one, two] = await twoInstances()
    const subject = `feeds-${randomUUID()}`
    const ben = await open(two, `comments/${subject}`, 'ben')
    setFollowing({ doc: ben.doc, userId: 'ben' }, true)
    await acknowledged(ben)
    const onOne = await open(one, 'feed/user:ben', 'ben')
    const onTwo = await open(two, 'feed/user:ben', 'ben')
    const ana = await open(one, `comments/${subject}`, 'ana')
    const dan = await open(two, `comments/${subject}`, 'dan')
    await waitFor(() => ana.doc.getMap('followers').get('ben') === 'follower', 'ana sees ben follow')
    const { threadId } = createThread({ doc: ana.doc, userId: 'ana' }, 'a new topic')
    await acknowledged(ana)
    await waitFor(() => ids(onOne).length === 1 && ids(onTwo).length === 1, 'the thread on both instances')
    await waitFor(() => dan.doc.getMap('threads').has(threadId), 'dan sees the thread')
    for (let i = 0; i < 3; i++) {
      reply({ doc: i % 2 === 0 ? ana.doc : dan.doc, userId: i % 2 === 0 ? 'ana' : 'dan' }, threadId, `reply ${i}`)
    }
    await acknowledged(ana)
    await acknowledged(dan)
    const settled = (client: TestClient) => {
      const comment = readFeed(client.doc).find((item) => item.type === 'comment')
      return comment?.count === 3 && new Set(ids(client)).size === ids(client).length && ids(client).length === 2
    }
    await waitFor(() => settled(onOne) && settled(onTwo), 'both instances show the thread and the three replies folded, once each')
    expect(ids(onOne)).toEqual(ids(onTwo))
  })
})
