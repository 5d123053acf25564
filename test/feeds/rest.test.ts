/**
 * Feeds over REST on both backends: the document keeps the latest PARLEY_FEED_LIMIT items while
 * REST pages through all of them; integrator items are idempotent by id; trending orders a
 * scripted history by decayed velocity and lists only readable subjects.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { readFeed } from '../../protocol/index.ts'
import { systemClock } from '../../core/feeds/batcher.ts'
import { BACKENDS } from '../access/backends.ts'
import { codeOf, rest, TEST_API_KEY } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject } from '../notifications/setup.ts'
import { feedItems, startFeedWorld, type FeedWorld } from './setup.ts'

interface Page {
  items: Array<{ id: string; summary: string; count: number }>
  nextCursor: string | null
}

const MINUTE = 60_000

for (const backend of BACKENDS) {
  describe(`feeds over REST: ${backend.name}`, () => {
    let world: FeedWorld | undefined
    afterEach(async () => {
      await world?.dispose()
      world = undefined
    })

    const post = (w: FeedWorld, feedId: string, json: unknown) =>
      rest<{ id: string }>(w.s, 'POST', `/api/v1/feeds/${feedId}/items`, { bearer: TEST_API_KEY, json })

    it('the document keeps the latest PARLEY_FEED_LIMIT items; REST pages through all, newest first', async () => {
      const w = (world = await startFeedWorld({ feedLimit: 3 }, backend))
      const feed = await w.feed('user:ben', 'ben')
      for (let i = 0; i < 7; i++) {
        const answer = await post(w, 'user:ben', { id: `i${i}`, type: 'deploy', actorIds: ['bot'], summary: `Deployed v${i}`, priority: 'high' })
        expect(answer).toEqual({ status: 201, body: { id: `i${i}` } })
      }
      await waitFor(
        () =>
          readFeed(feed.doc)
            .map((i) => i.id)
            .join() === 'i4,i5,i6',
        'the three newest in the document, newest last',
      )
      const token = await w.s.token('ben', { access: {} })
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${cursor}`
        const answer = await rest<Page>(w.s, 'GET', `/api/v1/feeds/user:ben/items${query}`, { bearer: token })
        expect(answer.status).toBe(200)
        seen.push(...answer.body.items.map((i) => i.id))
        cursor = answer.body.nextCursor
      } while (cursor !== null)
      expect(seen).toEqual(['i6', 'i5', 'i4', 'i3', 'i2', 'i1', 'i0'])
      const byBackend = await rest<Page>(w.s, 'GET', '/api/v1/feeds/user:ben/items?limit=1', { bearer: TEST_API_KEY })
      expect(byBackend.body.items.map((i) => i.id)).toEqual(['i6'])
      const other = await rest(w.s, 'GET', '/api/v1/feeds/user:ben/items', { bearer: await w.s.token('cid', { access: {} }) })
      expect([other.status, codeOf(other)]).toEqual([403, 'forbidden'])
      const badCursor = await rest(w.s, 'GET', '/api/v1/feeds/user:ben/items?cursor=nope', { bearer: token })
      expect([badCursor.status, codeOf(badCursor)]).toEqual([400, 'invalid_request'])
    })

    it('an integrator item is idempotent by id: recorded and shown once', async () => {
      const w = (world = await startFeedWorld({}, backend))
      const feed = await w.feed('user:ben', 'ben')
      const item = { id: 'release-42', type: 'release', actorIds: ['ci'], subjectId: 's1', summary: 'Release 42 is out' }
      expect(await post(w, 'user:ben', item)).toEqual({ status: 201, body: { id: 'release-42' } })
      expect(await post(w, 'user:ben', item)).toEqual({ status: 201, body: { id: 'release-42' } })
      const [shown] = await feedItems(feed, 1, 'the item in the document')
      expect(shown).toMatchObject({ id: 'release-42', type: 'release', actorIds: ['ci'], subjectId: 's1', summary: 'Release 42 is out', count: 1 })
      expect(await w.stored('user:ben')).toHaveLength(1)
      const metrics = await (await fetch(`${w.s.server.httpUrl}/metrics`)).text()
      expect(metrics).toContain('parley_feed_activities_total{result="duplicate"} 1')
      expect(metrics).toMatch(/parley_feed_document_batches_total [1-9]/)
      const generated = await post(w, 'user:ben', { type: 'note', actorIds: [], summary: 'no id given' })
      expect(generated.status).toBe(201)
      expect(generated.body.id).toMatch(/^[0-9a-f-]{36}$/)
      const user = await rest(w.s, 'POST', '/api/v1/feeds/user:ben/items', { bearer: await w.s.token('ben'), json: item })
      expect(user.status).toBe(401)
      const invalid = await post(w, 'user:ben', { type: 'x', actorIds: [], summary: 's', priority: 'urgent' })
      expect([invalid.status, codeOf(invalid)]).toEqual([400, 'invalid_request'])
    })

    it('trending orders a scripted history by decayed velocity, only readable subjects', async () => {
      let offset = 0
      const clock = { ...systemClock, now: () => Date.now() + offset }
      const w = (world = await startFeedWorld({ feeds: { clock } }, backend))
      for (const subject of ['old', 'mid', 'new']) await registerSubject(w.s, subject)
      await rest(w.s, 'PUT', '/api/v1/subjects/secret/members/ana', { bearer: TEST_API_KEY, json: { role: 'comment' } })
      const ana = await w.s.token('ana', { access: {} })
      const comment = async (subjectId: string, minutesAgo: number, times: number) => {
        offset = -minutesAgo * MINUTE
        for (let i = 0; i < times; i++) {
          const answer = await rest(w.s, 'POST', `/api/v1/subjects/${subjectId}/threads`, { bearer: ana, json: { body: `t${i}` } })
          expect(answer.status).toBe(201)
        }
      }
      await comment('old', 180, 5)
      await comment('secret', 170, 9)
      await comment('mid', 10, 2)
      await comment('new', 0, 1)
      await w.s.server.feeds.fanOut.idle()
      const ben = await w.s.token('ben', { access: {} })
      type Trending = { subjects: Array<{ subjectId: string; score: number; comments: number; participants: number }> }
      const hourly = await rest<Trending>(w.s, 'GET', '/api/v1/trending', { bearer: ben })
      expect(hourly.status).toBe(200)
      expect(hourly.body.subjects.map((s) => s.subjectId)).toEqual(['mid', 'new', 'old'])
      expect(hourly.body.subjects[2]).toMatchObject({ comments: 5, participants: 1 })
      expect(hourly.body.subjects[2]!.score).toBeCloseTo(5 / 8, 1)
      const slow = await rest<Trending>(w.s, 'GET', '/api/v1/trending?halfLifeMinutes=600&limit=2', { bearer: ben })
      expect(slow.body.subjects.map((s) => s.subjectId)).toEqual(['old', 'mid'])
      const asAna = await rest<Trending>(w.s, 'GET', '/api/v1/trending?limit=1&halfLifeMinutes=600', { bearer: ana })
      expect(asAna.body.subjects.map((s) => s.subjectId)).toEqual(['secret'])
    })
  })
}
