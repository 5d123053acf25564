/**
 * Feeds survive a graceful restart, on both backends (crash.test.ts does kill -9). Before the stop a
 * thread has reached ben's feed, and a reply is recorded but still waits for its (long) window.
 * After the restart the feed document, projected from storage, holds the thread, the waiting reply
 * is fanned out from storage, and the subject's document loading again (its rescan) repeats
 * nothing: each once.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createThread, readFeed, reply, setFollowing } from '../../protocol/index.ts'
import type { ParleyServerOptions } from '../../server/server.ts'
import { createTestSchema, type TestSchema } from '../helpers/postgres.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { newSecret } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject } from '../notifications/setup.ts'
import { TEST_WINDOWS } from './setup.ts'

/** A medium window the first server never reaches: the reply is still pending when it stops. */
const LONG_WINDOWS = { ...TEST_WINDOWS, medium: 10 * 60_000 }

interface Listed {
  items: Array<{ type: string; count: number; actorIds: string[] }>
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`feeds across a graceful restart: ${backend}`, () => {
    const servers: TestServer[] = []
    const clients: TestClient[] = []
    const schemas: TestSchema[] = []
    afterEach(async () => {
      for (const c of clients.splice(0)) c.destroy()
      for (const s of servers.splice(0)) await s.dispose()
      for (const schema of schemas.splice(0)) await schema.drop()
    })

    async function open(s: TestServer, name: string, userId: string): Promise<TestClient> {
      const client = await connectSynced(s.server.webSocketUrl, name, await s.token(userId, { access: {} }))
      clients.push(client)
      return client
    }

    const listed = async (s: TestServer, feedId: string) => (await rest<Listed>(s, 'GET', `/api/v1/feeds/${feedId}/items`, { bearer: TEST_API_KEY })).body.items

    it('applied items stay, a pending one is fanned out after the restart, nothing twice', async () => {
      const shared: ParleyServerOptions & { secret: string } = { apiKey: TEST_API_KEY, secret: newSecret(), dataDir: tempDir() }
      if (backend === 'postgres') {
        const schema = await createTestSchema()
        schemas.push(schema)
        shared.databaseUrl = schema.url
      }
      const first = await startServer({ ...shared, feeds: { windows: LONG_WINDOWS } })
      servers.push(first)
      await registerSubject(first, 's1')
      const ben = await open(first, 'comments/s1', 'ben')
      setFollowing({ doc: ben.doc, userId: 'ben' }, true)
      await acknowledged(ben)
      const ana = await open(first, 'comments/s1', 'ana')
      await waitFor(() => ana.doc.getMap('followers').get('ben') === 'follower', 'ana sees ben follow')
      const { threadId } = createThread({ doc: ana.doc, userId: 'ana' }, 'before the restart')
      await acknowledged(ana)
      await waitFor(async () => (await listed(first, 'user:ben')).length === 1, 'the thread in ben’s feed')
      reply({ doc: ana.doc, userId: 'ana' }, threadId, 'waits for its window')
      await acknowledged(ana)
      await first.server.feeds.extension.settled('comments/s1')
      await waitFor(async () => (await first.server.storage.feeds.pending(10)).length === 1, 'the reply recorded and waiting')
      expect((await listed(first, 'user:ben')).map((i) => i.type)).toEqual(['thread'])
      for (const c of clients.splice(0)) c.destroy()
      await first.stop()

      const second = await startServer({ ...shared, feeds: { windows: TEST_WINDOWS } })
      servers.push(second)
      const feed = await open(second, 'feed/user:ben', 'ben')
      await waitFor(() => readFeed(feed.doc).length === 2, 'the thread and the reply in ben’s feed after the restart')
      expect(readFeed(feed.doc)).toMatchObject([
        { type: 'thread', actorIds: ['ana'], count: 1 },
        { type: 'comment', actorIds: ['ana'], count: 1 },
      ])
      // The subject's document loads again: its rescan finds both comments already recorded.
      await open(second, 'comments/s1', 'ana')
      await second.server.feeds.extension.settled('comments/s1')
      await second.server.feeds.fanOut.idle()
      expect(await second.server.storage.feeds.pending(10)).toEqual([])
      expect(await listed(second, 'user:ben')).toMatchObject([
        { type: 'comment', count: 1 },
        { type: 'thread', count: 1 },
      ])
      expect(readFeed(feed.doc)).toHaveLength(2)
    })
  })
}
