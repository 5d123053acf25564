/** core/feeds/aggregate.ts: how activities fold into feed items, and what a retraction takes back. */
import { describe, expect, it } from 'vitest'
import { DEFAULT_AGGREGATION_WINDOW_MS, fold, foldAll, groupFolder, MAX_ITEM_ACTORS, retracts, summarize } from '../../core/feeds/aggregate.ts'
import { dueAt, dueTimes, groupPending } from '../../core/feeds/groups.ts'
import { activity, T0 } from './feeds-activity.ts'

const W = DEFAULT_AGGREGATION_WINDOW_MS

describe('feed aggregation', () => {
  it('creates an item from the first activity, with a readable summary', () => {
    const item = fold('user:ben', null, activity('ana', T0), W)
    expect(item).toMatchObject({ feedId: 'user:ben', id: 'comment:c-ana-' + T0, type: 'comment', actorIds: ['ana'], count: 1, createdAt: T0, updatedAt: T0 })
    expect(item.summary).toBe('Ana commented on s1')
  })

  it('folds the same type on the same subject within the window: actors latest first, count, updatedAt, summary', () => {
    let item = fold('f', null, activity('ana', T0), W)
    item = fold('f', item, activity('ben', T0 + 1000), W)
    item = fold('f', item, activity('ana', T0 + 2000), W)
    item = fold('f', item, activity('cy', T0 + 3000), W)
    item = fold('f', item, activity('dan', T0 + 4000), W)
    expect(item.actorIds).toEqual(['dan', 'cy', 'ana', 'ben'])
    expect(item.count).toBe(5)
    expect(item.updatedAt).toBe(T0 + 4000)
    expect(item.createdAt).toBe(T0)
    expect(item.id).toBe('comment:c-ana-' + T0)
    expect(item.summary).toBe('Dan and 3 others commented on s1')
  })

  it('does not fold another type, another subject, or past the window', () => {
    const first = fold('f', null, activity('ana', T0), W)
    expect(fold('f', first, activity('ben', T0 + 1, { type: 'thread' }), W).id).not.toBe(first.id)
    expect(fold('f', first, activity('ben', T0 + 1, { subjectId: 's2' }), W).id).not.toBe(first.id)
    expect(fold('f', first, activity('ben', T0 + W), W).count).toBe(1)
    expect(fold('f', first, activity('ben', T0 + W - 1), W).count).toBe(2)
  })

  it('keeps integrator items as given: their id and summary, never folded', () => {
    const given = activity('bot', T0, { type: 'deploy', itemId: 'd1', summary: 'Deployed v2', commentId: null })
    const item = fold('f', null, given, W)
    expect(item).toMatchObject({ id: 'd1', summary: 'Deployed v2', foldable: false })
    expect(fold('f', item, activity('bot', T0 + 1, { type: 'deploy', itemId: 'd2', summary: 'Deployed v3' }), W).id).toBe('d2')
  })

  it('bounds the actors it keeps', () => {
    let item = fold('f', null, activity('u0', T0), W)
    for (let i = 1; i < MAX_ITEM_ACTORS + 10; i++) item = fold('f', item, activity(`u${i}`, T0 + i), W)
    expect(item.actorIds).toHaveLength(MAX_ITEM_ACTORS)
    expect(item.actorIds[0]).toBe(`u${MAX_ITEM_ACTORS + 9}`)
  })

  it('a retraction takes back only an item whose only activity was the deleted comment', () => {
    const only = fold('f', null, activity('ana', T0, { commentId: 'c1' }), W)
    const retract = activity('ana', T0 + 5, { kind: 'retract', commentId: 'c1' })
    expect(retracts(only, retract)).toBe(true)
    const folded = fold('f', only, activity('ben', T0 + 1, { commentId: 'c2' }), W)
    expect(retracts(folded, activity('ana', T0 + 5, { kind: 'retract', commentId: 'c2' }))).toBe(false)
  })

  it('summaries name the verb of each type', () => {
    expect(summarize('thread', 'Ana', 1, 's1')).toBe('Ana started a thread on s1')
    expect(summarize('reaction', 'Ana', 2, 's1')).toBe('Ana and 1 other reacted to a comment on s1')
  })
})

describe('pending activities in groups', () => {
  it('groups a burst in one subject, keeps other subjects apart, never lets a retraction overtake its comment', () => {
    const feeds = ['subject:s1', 'user:ben']
    const page = [
      activity('ana', T0, { feeds }),
      activity('cy', T0 + 1, { subjectId: 's2', feeds: ['subject:s2'] }),
      activity('ben', T0 + 2, { feeds }),
      activity('ana', T0 + 3, { kind: 'retract', id: 'delete:s1:x', feeds: [] }),
      activity('dan', T0 + 4, { feeds }),
      activity('eve', T0 + 5, { feeds: ['subject:s1'] }),
    ].map((a) => ({ activity: a, cursor: 0 }))
    expect(groupPending(page).map((g) => g.activities.map((a) => a.actorIds[0]))).toEqual([['ana', 'ben'], ['cy'], ['ana'], ['dan'], ['eve']])
    expect(
      groupPending([
        { activity: activity('ana', T0), cursor: 3 },
        { activity: activity('ben', T0), cursor: 0 },
      ]),
    ).toHaveLength(2)
  })

  it('a group is due when its most urgent window ends, or when a later group of its subject is due', () => {
    const windows = { high: 1_000, medium: 5_000, low: 15_000 }
    const feeds = ['subject:s1', 'user:ben']
    const page = [
      activity('ana', T0, { type: 'reaction', priority: 'low', feeds }),
      activity('ben', T0 + 10, { feeds }),
      activity('cy', T0 + 20, { feeds, priority: 'high' }),
      activity('dan', T0 + 30, { subjectId: 's2', type: 'reaction', priority: 'low', feeds: ['subject:s2'] }),
    ].map((a) => ({ activity: a, cursor: 0 }))
    const groups = groupPending(page)
    expect(groups.map((g) => g.activities.map((a) => a.actorIds[0]))).toEqual([['ana'], ['ben', 'cy'], ['dan']])
    // ben and cy's group is due with cy (high); ana's reaction before it in s1 comes along; s2 waits its own window.
    expect(dueTimes(groups, windows)).toEqual([T0 + 1_020, T0 + 1_020, T0 + 15_030])
    // An integrator's item is due at once.
    expect(dueAt(activity('bot', T0, { summary: 'deployed', type: 'deploy' }), windows)).toBe(T0)
  })

  it('groups activities sharing one long feed list by identity, as storage hands them out', () => {
    const shared = Array.from({ length: 20 }, (_, i) => `user:u${i}`)
    const page = [activity('ana', T0, { feeds: shared }), activity('ben', T0 + 1, { feeds: shared }), activity('cy', T0 + 2, { feeds: [...shared] })]
    expect(groupPending(page.map((a) => ({ activity: a, cursor: 0 }))).map((g) => g.activities.length)).toEqual([2, 1])
  })

  it('folds a group once per distinct candidate, each feed getting what foldAll gives it', () => {
    const group = [activity('ana', T0 + 10), activity('ben', T0 + 20)]
    const fold = groupFolder(group, W)
    const candidate = (feedId: string) => foldAll(feedId, null, [activity('cy', T0)], W)[0]!
    for (const feedId of ['user:a', 'user:b']) {
      expect(fold(feedId, candidate(feedId))).toEqual(foldAll(feedId, candidate(feedId), group, W))
      expect(fold(feedId, null)).toEqual(foldAll(feedId, null, group, W))
    }
    expect(fold('user:a', candidate('user:a'))[0]).toMatchObject({ feedId: 'user:a', actorIds: ['ben', 'ana', 'cy'], count: 3 })
  })

  it('folds a group into one changed item per feed', () => {
    const items = foldAll('f', null, [activity('ana', T0), activity('ben', T0 + 1), activity('cy', T0 + W + 1)], W)
    expect(items.map((i) => [i.actorIds, i.count])).toEqual([
      [['ben', 'ana'], 2],
      [['cy'], 1],
    ])
  })
})
