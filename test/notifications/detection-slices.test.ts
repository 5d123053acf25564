/**
 * Detection of a large write is cut into slices (core/notifications/detector.ts,
 * `DETECTION_SLICE_MS`): a write of many comments of 1,000 `@handles` each, the mention storm of
 * issue 13, lets the event loop turn between comments instead of holding it for the whole batch,
 * and still records every comment and the first `MAX_MENTIONS_PER_COMMENT` mentions of each.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread } from '../../protocol/index.ts'
import { createAccessResolver } from '../../core/access/resolve.ts'
import { createEvents } from '../../core/events.ts'
import { snapshotAll } from '../../core/mentions/snapshot.ts'
import { createDetector, DETECTION_SLICE_MS } from '../../core/notifications/detector.ts'
import { MAX_MENTIONS_PER_COMMENT } from '../../core/notifications/mention-limits.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { tempDir } from '../helpers/server.ts'

const COMMENTS = 60
const HANDLES_PER_COMMENT = 1_000
const USERS = 2_000

describe(`detection in slices of about ${DETECTION_SLICE_MS} ms`, () => {
  it('turns the event loop between the comments of a large write and records them all', async () => {
    const storage = SqliteStorage.inDataDir(tempDir())
    try {
      for (let i = 0; i < USERS; i++) await storage.users.putProfile(`user-${i}`, { name: `User ${i}`, handle: `u${i}` })
      const logger = pino({ level: 'silent' })
      const detector = createDetector({
        storage,
        access: createAccessResolver({ storage, devMode: true, logger }),
        events: createEvents(logger, () => undefined),
      })
      const doc = new Y.Doc()
      doc.transact(() => {
        for (let c = 0; c < COMMENTS; c++)
          createThread({ doc, userId: 'mallory' }, Array.from({ length: HANDLES_PER_COMMENT }, (_, i) => `@u${(c * 37 + i) % USERS}`).join(' '))
      })
      const snapshots = snapshotAll(doc, () => false)

      // Counts turns of the event loop, and the longest stretch between two, while detection runs.
      let turns = 0
      let longest = 0
      let running = true
      const ticker = (async () => {
        let last = performance.now()
        while (running) {
          await nextTurn()
          const now = performance.now()
          longest = Math.max(longest, now - last)
          last = now
          turns++
        }
      })()
      const handled = { mentions: new Map<string, Set<string>>(), comments: new Set<string>(), events: new Set<string>() }
      const started = performance.now()
      const result = await detector.detect('storm', snapshots, handled)
      const took = performance.now() - started
      running = false
      await ticker

      expect(result.comments).toHaveLength(COMMENTS)
      for (const s of snapshots) expect(handled.mentions.get(s.commentId)?.size).toBe(MAX_MENTIONS_PER_COMMENT)
      // Without slices the whole detection is one turn (measured: 1 turn of 42 ms); with them the loop turns between comments.
      expect(took, 'the write is large enough to need slices').toBeGreaterThan(3 * DETECTION_SLICE_MS)
      expect(turns, `detection took ${took.toFixed(0)} ms`).toBeGreaterThanOrEqual(3)
      console.log(`detection of ${COMMENTS} comments took ${took.toFixed(0)} ms in ${turns} turns, longest ${longest.toFixed(1)} ms`)
    } finally {
      await storage.close()
    }
  }, 60_000)
})
