/** Shared set-up for feed tests: a world (test/notifications/setup.ts) with short batching windows, and feed readers. */
import { readFeed, type FeedItem } from '../../protocol/index.ts'
import type { ParleyServerOptions } from '../../server/server.ts'
import type { Backend } from '../access/backends.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { waitFor } from '../helpers/wait.ts'
import { startWorld, type World } from '../notifications/setup.ts'

/** Batching windows the tests use (ms): short, and still in priority order. */
export const TEST_WINDOWS = { high: 50, medium: 100, low: 150 }

export interface FeedWorld extends World {
  /** A synced, read-only provider for `feed/<feedId>` as `userId`. */
  feed(feedId: string, userId: string): Promise<TestClient>
  /** The feed's items in storage, newest first, once the fan-out is idle. */
  stored(feedId: string): Promise<FeedItem[]>
}

export async function startFeedWorld(options: ParleyServerOptions = {}, backend?: Backend): Promise<FeedWorld> {
  const world = await startWorld({ ...options, feeds: { windows: TEST_WINDOWS, ...options.feeds } }, backend)
  return {
    ...world,
    async feed(feedId, userId) {
      const client = await connectSynced(world.s.server.webSocketUrl, `feed/${feedId}`, await world.s.token(userId, { access: {} }))
      world.clients.push(client)
      return client
    },
    async stored(feedId) {
      await world.s.server.feeds.fanOut.idle()
      return world.s.server.storage.feeds.list(feedId, { limit: 1000, after: null })
    },
  }
}

/** Waits until the feed document holds `count` items and returns them (newest last). */
export async function feedItems(client: TestClient, count: number, what: string): Promise<FeedItem[]> {
  await waitFor(() => readFeed(client.doc).length === count, what)
  return readFeed(client.doc)
}
