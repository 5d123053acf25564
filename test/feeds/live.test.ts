/**
 * Live feeds on both backends: following a subject brings its activity into `feed/user:<id>`
 * (aggregated across actors), unfollowing or losing access stops it, a deleted only comment takes
 * its item back, and clients cannot write to a feed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread, deleteComment, FEED_ITEMS, react, readFeed, reply, setFollowing } from '../../protocol/index.ts'
import { BACKENDS } from '../access/backends.ts'
import { acknowledged } from '../helpers/provider.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject } from '../notifications/setup.ts'
import { feedItems, startFeedWorld, type FeedWorld } from './setup.ts'

for (const backend of BACKENDS) {
  describe(`live feeds: ${backend.name}`, () => {
    let world: FeedWorld
    beforeEach(async () => {
      world = await startFeedWorld({}, backend)
      await registerSubject(world.s, 's1')
    })
    afterEach(async () => {
      await world.dispose()
    })

    async function follow(userId: string) {
      const client = await world.open('s1', userId)
      setFollowing({ doc: client.doc, userId }, true)
      await acknowledged(client)
      return client
    }

    it('follow → a live item in the follower’s feed and the subject feed; activity aggregates across two actors', async () => {
      await follow('ben')
      const feed = await world.feed('user:ben', 'ben')
      const subjectFeed = await world.feed('subject:s1', 'dan')
      const ana = await world.open('s1', 'ana')
      const { threadId } = createThread({ doc: ana.doc, userId: 'ana' }, 'a new topic')
      const [thread] = await feedItems(feed, 1, 'the thread in ben’s feed')
      expect(thread).toMatchObject({ type: 'thread', actorIds: ['ana'], subjectId: 's1', threadId, count: 1, summary: 'ANA started a thread on s1' })
      reply({ doc: ana.doc, userId: 'ana' }, threadId, 'first')
      const cid = await world.open('s1', 'cid')
      await waitFor(() => cid.doc.getMap('threads').has(threadId), 'cid sees the thread')
      await acknowledged(ana)
      reply({ doc: cid.doc, userId: 'cid' }, threadId, 'second')
      await waitFor(() => readFeed(feed.doc).some((i) => i.type === 'comment' && i.count === 2), 'two comments folded')
      const items = readFeed(feed.doc)
      expect(items).toHaveLength(2)
      expect(items[1]).toMatchObject({ type: 'comment', actorIds: ['cid', 'ana'], count: 2, summary: 'CID and 1 other commented on s1' })
      expect(items[1]!.updatedAt).toBeGreaterThanOrEqual(items[1]!.createdAt)
      await feedItems(subjectFeed, 2, 'the subject feed has the thread and the folded comments')
      // The actor's own feed hears nothing of its own action.
      expect(await world.stored('user:ana')).toEqual([])
    })

    it('unfollow stops it; revoked access stops it', async () => {
      const ben = await follow('ben')
      await follow('cid')
      const ana = await world.open('s1', 'ana')
      const { threadId } = createThread({ doc: ana.doc, userId: 'ana' }, 'one')
      await waitFor(async () => (await world.stored('user:ben')).length === 1 && (await world.stored('user:cid')).length === 1, 'both hear the thread')
      setFollowing({ doc: ben.doc, userId: 'ben' }, false)
      await acknowledged(ben)
      await waitFor(() => ana.doc.getMap('followers').get('ben') === undefined, 'ana sees ben unfollow')
      expect((await rest(world.s, 'DELETE', '/api/v1/subjects/s1/members/cid', { bearer: TEST_API_KEY })).status).toBe(200)
      reply({ doc: ana.doc, userId: 'ana' }, threadId, 'two')
      await waitFor(async () => (await world.stored('subject:s1')).length === 2, 'the comment reached the subject feed')
      expect((await world.stored('user:ben')).map((i) => i.type)).toEqual(['thread'])
      expect((await world.stored('user:cid')).map((i) => i.type)).toEqual(['thread'])
    })

    it('a reaction reaches the comment author’s feed; deleting the only comment of an item takes it back', async () => {
      const ben = await follow('ben')
      const feed = await world.feed('user:ben', 'ben')
      const { threadId, commentId } = createThread({ doc: ben.doc, userId: 'ben' }, 'mine')
      const ana = await world.open('s1', 'ana')
      await waitFor(() => ana.doc.getMap('threads').has(threadId), 'ana sees the thread')
      react({ doc: ana.doc, userId: 'ana' }, threadId, commentId, '👍')
      const [reaction] = await feedItems(feed, 1, 'the reaction in ben’s feed')
      expect(reaction).toMatchObject({ type: 'reaction', actorIds: ['ana'], commentId, summary: 'ANA reacted to a comment on s1' })
      const { commentId: second } = reply({ doc: ana.doc, userId: 'ana' }, threadId, 'oops')
      await feedItems(feed, 2, 'the comment in ben’s feed')
      deleteComment({ doc: ana.doc, userId: 'ana' }, threadId, second)
      await feedItems(feed, 1, 'the comment taken back')
      expect(readFeed(feed.doc)[0]?.type).toBe('reaction')
    })

    it('a client write to a feed is refused: the server’s document and other readers never see it', async () => {
      await follow('ben')
      const feed = await world.feed('user:ben', 'ben')
      const subjectFeed = await world.feed('subject:s1', 'ben')
      const other = await world.feed('subject:s1', 'cid')
      subjectFeed.doc.getArray(FEED_ITEMS).push([new Y.Map<unknown>([['id', 'forged']])])
      feed.doc.getArray(FEED_ITEMS).push([new Y.Map<unknown>([['id', 'forged']])])
      const ana = await world.open('s1', 'ana')
      createThread({ doc: ana.doc, userId: 'ana' }, 'real')
      await waitFor(() => readFeed(other.doc).length === 1, 'the real item reaches the other reader')
      expect(readFeed(other.doc).map((i) => i.type)).toEqual(['thread'])
      const served = world.s.server.hocuspocus.documents.get('feed/subject:s1')
      expect(served && readFeed(served).map((i) => i.id)).not.toContain('forged')
      const own = world.s.server.hocuspocus.documents.get('feed/user:ben')
      expect(own && readFeed(own).map((i) => i.id)).not.toContain('forged')
    })
  })
}
