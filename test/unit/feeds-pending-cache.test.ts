/**
 * SQLite's feed store reads a pending page on every fan-out drain: an activity's data is read and
 * parsed once (it never changes once recorded), its cursor every time, and it is forgotten once
 * applied or refused (server/storage/sqlite/feeds.ts).
 */
import path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { DEFAULT_AGGREGATION_WINDOW_MS as W } from '../../core/feeds/aggregate.ts'
import { SqliteStorage, SQLITE_FILE } from '../../server/storage/sqlite/index.ts'
import { tempDir } from '../helpers/server.ts'
import { activity, T0 } from './feeds-activity.ts'

describe('SQLite pending feed activities', () => {
  it('reads data once and cursors every time; an applied activity leaves the page', async () => {
    const dir = tempDir()
    const storage = SqliteStorage.inDataDir(dir)
    const other = new Database(path.join(dir, SQLITE_FILE))
    try {
      const a = activity('ana', T0, { feeds: ['subject:s1', 'user:ben', 'user:cy'] })
      const b = activity('ben', T0 + 1)
      for (const x of [a, b]) expect(await storage.feeds.record(x)).toBe(true)
      expect(await storage.feeds.pending(10)).toEqual([a, b].map((x) => ({ activity: x, cursor: 0 })))

      // Data changed behind the store's back is not read again: the page and the apply use what was parsed.
      other.prepare("UPDATE feed_activities SET data = 'not json' WHERE id = ?").run(a.id)
      expect(await storage.feeds.apply([a.id], 0, ['subject:s1', 'user:ben'], 2, false, W)).toEqual(['subject:s1', 'user:ben'])
      expect(await storage.feeds.pending(10)).toEqual([
        { activity: a, cursor: 2 },
        { activity: b, cursor: 0 },
      ])

      // A later activity is read when it first shows up; the applied one is gone from the page.
      const c = activity('cy', T0 + 2)
      expect(await storage.feeds.record(c)).toBe(true)
      expect(await storage.feeds.apply([a.id], 2, ['user:cy'], 3, true, W)).toEqual(['user:cy'])
      expect(await storage.feeds.pending(10)).toEqual([b, c].map((x) => ({ activity: x, cursor: 0 })))
    } finally {
      other.close()
      await storage.close()
    }
  })

  it('forgets what it parsed of an activity whose apply is refused', async () => {
    const dir = tempDir()
    const storage = SqliteStorage.inDataDir(dir)
    const other = new Database(path.join(dir, SQLITE_FILE))
    try {
      const b = activity('ben', T0)
      expect(await storage.feeds.record(b)).toBe(true)
      expect(await storage.feeds.pending(10)).toEqual([{ activity: b, cursor: 0 }])

      // Another instance moved the cursor (and, to tell the reads apart, the row holds other data now).
      const renamed = { ...b, actorName: 'Benjamin' }
      other.prepare('UPDATE feed_activities SET data = ?, cursor = 1 WHERE id = ?').run(JSON.stringify(renamed), b.id)
      expect(await storage.feeds.apply([b.id], 0, ['subject:s1'], 1, false, W)).toEqual([])
      // Refused, so not kept: the next page reads the activity afresh.
      expect(await storage.feeds.pending(10)).toEqual([{ activity: renamed, cursor: 1 }])
    } finally {
      other.close()
      await storage.close()
    }
  })
})
