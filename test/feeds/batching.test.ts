/**
 * Priority batching on a real server with an injected clock: activities wait in storage until their
 * window ends, then a burst of comments reaches a follower's feed as one group (one row write per
 * feed, one document transaction), a thread start (high) at 1 s, a reaction (low) at 15 s. On
 * SQLite and PostgreSQL.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createThread, react, readFeed, reply, setFollowing } from '../../protocol/index.ts'
import { BACKENDS } from '../access/backends.ts'
import { acknowledged } from '../helpers/provider.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject } from '../notifications/setup.ts'
import { manualClock, type ManualClock } from '../unit/feeds-activity.ts'
import { startFeedWorld, type FeedWorld } from './setup.ts'

for (const backend of BACKENDS) {
  describe(`feed batching windows (injected clock): ${backend.name}`, () => {
    let world: FeedWorld
    let clock: ManualClock
    const writes: string[] = []
    beforeEach(async () => {
      clock = manualClock(Date.now())
      writes.length = 0
      world = await startFeedWorld({ feeds: { clock, windows: {}, written: (feedId) => writes.push(feedId) } }, backend)
      await registerSubject(world.s, 's1')
    })
    afterEach(async () => {
      await world.dispose()
    })

    /** Waits until `count` activities are recorded and waiting for their window (none applied yet). */
    async function waiting(count: number): Promise<void> {
      await world.s.server.feeds.extension.settled('comments/s1')
      await waitFor(async () => (await world.s.server.storage.feeds.pending(100)).length === count, `${count} activities waiting`)
    }

    /** Waits until the fan-out applied everything and wrote the documents. */
    async function applied(): Promise<void> {
      await waitFor(async () => (await world.s.server.storage.feeds.pending(1)).length === 0, 'nothing pending')
      await world.s.server.feeds.fanOut.idle()
    }

    it('high ≤ 1 s, a burst of medium comments in one batch at 5 s, low ≤ 15 s', async () => {
      const ben = await world.open('s1', 'ben')
      setFollowing({ doc: ben.doc, userId: 'ben' }, true)
      await acknowledged(ben)
      const feed = await world.feed('user:ben', 'ben')
      const ana = await world.open('s1', 'ana')
      const { threadId } = createThread({ doc: ana.doc, userId: 'ana' }, 'topic')
      await acknowledged(ana)
      await waiting(1)
      clock.advance(999)
      expect(await world.s.server.storage.feeds.list('user:ben', { limit: 10, after: null })).toEqual([])
      expect(readFeed(feed.doc)).toEqual([])
      clock.advance(1)
      await waitFor(() => readFeed(feed.doc).length === 1, 'the thread after 1 s')
      writes.length = 0

      let updates = 0
      feed.doc.on('update', () => updates++)
      for (let i = 0; i < 30; i++) reply({ doc: ana.doc, userId: 'ana' }, threadId, `burst ${i}`)
      await acknowledged(ana)
      await waiting(30)
      clock.advance(4999)
      expect(await world.s.server.storage.feeds.pending(100)).toHaveLength(30)
      expect(readFeed(feed.doc)).toHaveLength(1)
      clock.advance(1)
      await waitFor(() => readFeed(feed.doc).some((i) => i.type === 'comment' && i.count === 30), 'the burst folded into one item')
      expect(writes.filter((f) => f === 'user:ben')).toHaveLength(1)
      expect(updates).toBe(1)

      const { commentId } = reply({ doc: ben.doc, userId: 'ben' }, threadId, 'mine')
      await acknowledged(ben)
      await waitFor(() => JSON.stringify(ana.doc.toJSON()).includes(commentId), 'ana sees ben’s comment')
      await waiting(1)
      clock.advance(5000)
      await applied()
      writes.length = 0
      react({ doc: ana.doc, userId: 'ana' }, threadId, commentId, '🎉')
      await acknowledged(ana)
      await waiting(1)
      clock.advance(14_999)
      expect(readFeed(feed.doc).some((i) => i.type === 'reaction')).toBe(false)
      clock.advance(1)
      await waitFor(() => readFeed(feed.doc).some((i) => i.type === 'reaction'), 'the reaction after 15 s')
    })
  })
}
