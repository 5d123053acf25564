/**
 * core/feeds/fanout.ts with an injected clock on real SQLite storage: activities wait in storage
 * for their window, then a burst is applied as one group (one apply per chunk of feeds, each
 * feed's row written once); an integrator's item is applied at once.
 */
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_AGGREGATION_WINDOW_MS } from '../../core/feeds/aggregate.ts'
import { DEFAULT_BATCH_WINDOWS } from '../../core/feeds/batcher.ts'
import { createFanOut, FANOUT_CHUNK } from '../../core/feeds/fanout.ts'
import type { FeedStore } from '../../core/storage/feed-types.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { tempDir } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { activity, manualClock } from './feeds-activity.ts'

describe('fan-out per batch window', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  function setup() {
    const dir = tempDir()
    const storage = new SqliteStorage(path.join(dir, 'feeds.db'))
    const clock = manualClock(Date.now())
    const applies: number[] = []
    const changed: string[] = []
    // The real store, counting the activities of each apply.
    const store: FeedStore = {
      record: (a, trend) => storage.feeds.record(a, trend),
      pending: (limit) => storage.feeds.pending(limit),
      list: (feedId, page) => storage.feeds.list(feedId, page),
      trending: (limit, offset) => storage.feeds.trending(limit, offset),
      apply(ids, from, feeds, to, done, windowMs) {
        applies.push(ids.length)
        return storage.feeds.apply(ids, from, feeds, to, done, windowMs)
      },
    }
    const fanOut = createFanOut({
      store,
      readers: async (_subject, users) => new Set(users),
      windowMs: DEFAULT_AGGREGATION_WINDOW_MS,
      windows: DEFAULT_BATCH_WINDOWS,
      clock,
      changed: (feedId) => changed.push(feedId),
      faults: { at: () => Promise.resolve() },
      onError: (where, error) => {
        throw new Error(`${where}: ${String(error)}`)
      },
    })
    cleanups.push(async () => {
      await fanOut.stop()
      await storage.close()
      rmSync(dir, { recursive: true, force: true })
    })
    return { storage, clock, fanOut, applies, changed }
  }

  it('a burst of 30 comments to 450 feeds waits its 5 s window, then costs one apply per chunk and one row per feed; an integrator item goes at once', async () => {
    const { storage, clock, fanOut, applies, changed } = setup()
    const feeds = ['subject:s1', ...Array.from({ length: 449 }, (_, i) => `user:u${String(i).padStart(3, '0')}`)]
    const start = clock.now()
    for (let i = 0; i < 30; i++) {
      await fanOut.record(activity(`a${i}`, clock.now(), { feeds }))
      clock.advance(1)
    }
    // The group is due with its first comment's window.
    clock.advance(start + DEFAULT_BATCH_WINDOWS.medium - 1 - clock.now())
    expect(applies).toEqual([])
    expect(await storage.feeds.pending(100)).toHaveLength(30)
    clock.advance(1)
    await waitFor(async () => (await storage.feeds.pending(100)).length === 0, 'the group applied')
    await fanOut.idle()
    expect(applies).toEqual(Array.from({ length: Math.ceil(feeds.length / FANOUT_CHUNK) }, () => 30))
    expect(changed).toHaveLength(feeds.length)
    const [item] = await storage.feeds.list('user:u123', { limit: 10, after: null })
    expect(item).toMatchObject({ count: 30 })
    expect(item?.actorIds).toHaveLength(30)
    expect(item?.actorIds[0]).toBe('a29')

    applies.length = 0
    await fanOut.record(activity('bot', clock.now(), { id: 'item:user:u001:x', itemId: 'x', type: 'deploy', summary: 'v2', feeds: ['user:u001'] }))
    await waitFor(async () => (await storage.feeds.list('user:u001', { limit: 10, after: null })).some((i) => i.id === 'x'), 'the item at once')
    expect(applies).toEqual([1])
  })
})
