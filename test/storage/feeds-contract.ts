/** The feeds part of the storage contract (issue 18), run per backend through `storageContract`. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_AGGREGATION_WINDOW_MS as W } from '../../core/feeds/aggregate.ts'
import type { Storage } from '../../core/storage/types.ts'
import { activity, T0 } from '../unit/feeds-activity.ts'
import type { BackendFactory } from './contract.ts'

const H = 60 * 60_000

export function feedsContract(name: string, factory: BackendFactory): void {
  describe(`feeds: ${name}`, () => {
    let storage: Storage
    beforeEach(async () => {
      storage = await factory.open()
    })
    afterEach(async () => {
      await factory.destroy(storage)
    })

    it('records each activity once (idempotency key) and keeps the pending ones across a reopen', async () => {
      const a = activity('ana', T0, { feeds: ['subject:s1', 'user:ben', 'user:cy'] })
      expect(await storage.feeds.record(a)).toBe(true)
      expect(await storage.feeds.record(a)).toBe(false)
      storage = await factory.reopen(storage)
      expect(await storage.feeds.pending(10)).toEqual([{ activity: a, cursor: 0 }])
    })

    it('stores a long feed list once for the activities that share it, and reads it back across a reopen', async () => {
      const feeds = ['subject:s1', ...Array.from({ length: 40 }, (_, i) => `user:u${i}`)]
      const a = activity('ana', T0, { feeds })
      const b = activity('ben', T0 + 1, { feeds })
      const c = activity('cy', T0 + 2, { feeds: [...feeds, 'user:late'] })
      for (const x of [a, b, c]) expect(await storage.feeds.record(x)).toBe(true)
      expect(await storage.feeds.pending(10)).toEqual([a, b, c].map((x) => ({ activity: x, cursor: 0 })))
      storage = await factory.reopen(storage)
      expect(await storage.feeds.pending(10)).toEqual([a, b, c].map((x) => ({ activity: x, cursor: 0 })))
      expect(await storage.feeds.apply([a.id, b.id], 0, feeds.slice(0, 20), 20, false, W)).toHaveLength(20)
      expect(await storage.feeds.pending(10)).toEqual([
        { activity: a, cursor: 20 },
        { activity: b, cursor: 20 },
        { activity: c, cursor: 0 },
      ])
    })

    it('applies a chunk once: the cursor moves with it, a replay changes nothing', async () => {
      const a = activity('ana', T0, { feeds: ['subject:s1', 'user:ben', 'user:cy'] })
      await storage.feeds.record(a)
      expect(await storage.feeds.apply([a.id], 0, ['subject:s1', 'user:ben'], 2, false, W)).toEqual(['subject:s1', 'user:ben'])
      expect(await storage.feeds.apply([a.id], 0, ['subject:s1', 'user:ben'], 2, false, W)).toEqual([])
      expect(await storage.feeds.pending(10)).toEqual([{ activity: a, cursor: 2 }])
      expect(await storage.feeds.apply([a.id], 2, ['user:cy'], 3, true, W)).toEqual(['user:cy'])
      expect(await storage.feeds.pending(10)).toEqual([])
      expect(await storage.feeds.apply([a.id], 3, ['user:cy'], 3, true, W)).toEqual([])
      const [item] = await storage.feeds.list('user:ben', { limit: 10, after: null })
      expect(item).toMatchObject({ feedId: 'user:ben', type: 'comment', actorIds: ['ana'], count: 1, subjectId: 's1', commentId: a.commentId })
    })

    it('folds the same type on the same subject within the window, across two actors', async () => {
      for (const [actor, at] of [
        ['ana', T0],
        ['ben', T0 + 1000],
      ] as const) {
        const a = activity(actor, at, { feeds: ['user:cy'] })
        await storage.feeds.record(a)
        await storage.feeds.apply([a.id], 0, a.feeds, 1, true, W)
      }
      const items = await storage.feeds.list('user:cy', { limit: 10, after: null })
      expect(items).toHaveLength(1)
      expect(items[0]).toMatchObject({ actorIds: ['ben', 'ana'], count: 2, createdAt: T0, updatedAt: T0 + 1000, summary: 'Ben and 1 other commented on s1' })
    })

    it('applies a group of activities at once: each feed row written once, every cursor moved, a replay changes nothing', async () => {
      const group = ['ana', 'ben', 'cy'].map((actor, i) => activity(actor, T0 + i, { feeds: ['subject:s1', 'user:dan'] }))
      for (const a of group) await storage.feeds.record(a)
      const ids = group.map((a) => a.id)
      expect(await storage.feeds.apply(ids, 0, ['subject:s1', 'user:dan'], 2, true, W)).toEqual(['subject:s1', 'user:dan'])
      expect(await storage.feeds.apply(ids, 0, ['subject:s1', 'user:dan'], 2, true, W)).toEqual([])
      expect(await storage.feeds.pending(10)).toEqual([])
      const [item] = await storage.feeds.list('user:dan', { limit: 10, after: null })
      expect(item).toMatchObject({ actorIds: ['cy', 'ben', 'ana'], count: 3, createdAt: T0, updatedAt: T0 + 2 })
      // One activity of a group already applied elsewhere: the whole group waits (nothing changes).
      const late = activity('eve', T0 + 5, { feeds: ['user:dan'] })
      await storage.feeds.record(late)
      expect(await storage.feeds.apply([late.id, group[0]!.id], 0, ['user:dan'], 1, true, W)).toEqual([])
    })

    it('takes back an item whose only comment was deleted, in every feed', async () => {
      const a = activity('ana', T0, { commentId: 'c1', feeds: ['subject:s1', 'user:ben'] })
      await storage.feeds.record(a)
      await storage.feeds.apply([a.id], 0, a.feeds, 2, true, W)
      const retract = activity('ana', T0 + 10, { id: 'delete:s1:c1', kind: 'retract', commentId: 'c1', feeds: [] })
      await storage.feeds.record(retract)
      expect((await storage.feeds.apply([retract.id], 0, [], 0, true, W)).sort()).toEqual(['subject:s1', 'user:ben'])
      expect(await storage.feeds.list('user:ben', { limit: 10, after: null })).toEqual([])
    })

    it('pages newest first with a cursor', async () => {
      for (let i = 0; i < 5; i++) {
        const a = activity('bot', T0 + i, { id: `item:${i}`, itemId: `i${i}`, type: 'deploy', summary: `v${i}`, feeds: ['user:ben'] })
        await storage.feeds.record(a)
        await storage.feeds.apply([a.id], 0, a.feeds, 1, true, W)
      }
      const first = await storage.feeds.list('user:ben', { limit: 2, after: null })
      expect(first.map((i) => i.id)).toEqual(['i4', 'i3'])
      const last = first.at(-1)!
      const second = await storage.feeds.list('user:ben', { limit: 10, after: { updatedAt: last.updatedAt, id: last.id } })
      expect(second.map((i) => i.id)).toEqual(['i2', 'i1', 'i0'])
      expect(second[0]).toMatchObject({ summary: 'v2', foldable: false, count: 1 })
    })

    it('moves trending counters with the recording, once, ordered by rank', async () => {
      const record = (subjectId: string, actor: string, at: number) =>
        storage.feeds.record(activity(actor, at, { id: `c:${subjectId}:${actor}:${at}`, subjectId }), { userId: actor, halfLifeMs: H })
      await record('old', 'ana', T0)
      await record('old', 'ben', T0 + 1)
      await record('old', 'ana', T0 + 2)
      await record('new', 'cy', T0 + 3 * H)
      expect(await storage.feeds.record(activity('ana', T0, { id: 'c:old:ana:' + T0, subjectId: 'old' }), { userId: 'ana', halfLifeMs: H })).toBe(false)
      const top = await storage.feeds.trending(10, 0)
      expect(top.map((t) => [t.subjectId, t.comments, t.participants])).toEqual([
        ['new', 1, 1],
        ['old', 3, 2],
      ])
      expect((await storage.feeds.trending(1, 1)).map((t) => t.subjectId)).toEqual(['old'])
    })
  })
}
