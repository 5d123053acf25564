/**
 * The projector's delivery path sets only the notifications a delivery names (`upsert`); the whole
 * projection (`project`) sets the latest list. Seeded random histories (new notifications, folds,
 * reads, equal times) show both leave the same inbox document, whatever the order. A seed replays.
 */
import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { INBOX_NOTIFICATIONS } from '../../protocol/index.ts'
import { project, upsert } from '../../core/notifications/inbox-document.ts'
import type { NotificationRecord } from '../../core/storage/types.ts'

const LIMIT = 5
const STEPS = 60
const SEEDS = 40

function record(id: string, at: number): NotificationRecord {
  return {
    id,
    userId: 'u',
    kind: 'reply',
    priority: 'normal',
    subjectId: 's',
    threadId: 't',
    commentId: `c-${id}`,
    actors: ['ana'],
    activityCount: 1,
    preview: `p-${id}`,
    createdAt: at,
    notifiedAt: at,
    readAt: null,
    seenAt: null,
    archivedAt: null,
    version: 1,
  }
}

/** Storage's list: newest `notifiedAt` first, then id ascending, the first `limit`. */
function latest(store: Map<string, NotificationRecord>, limit: number): NotificationRecord[] {
  return [...store.values()].sort((a, b) => b.notifiedAt - a.notifiedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, limit)
}

function contents(doc: Y.Doc): unknown {
  return doc.getMap(INBOX_NOTIFICATIONS).toJSON()
}

describe('inbox upsert (core/notifications/inbox-document.ts)', () => {
  it.each(Array.from({ length: SEEDS }, (_, i) => i + 1))('seed %i: setting the changed records equals projecting the latest list', (seed) => {
    const gen = prng.create(seed)
    const store = new Map<string, NotificationRecord>()
    const incremental = new Y.Doc()
    const whole = new Y.Doc()
    let clock = 1_000
    for (let step = 0; step < STEPS; step++) {
      const changed: NotificationRecord[] = []
      // One to three changes per delivery: a new notification (sometimes at an equal time), a fold, a read.
      for (let n = prng.uint32(gen, 1, 3); n > 0; n--) {
        const action = prng.uint32(gen, 0, 2)
        const existing = [...store.values()]
        if (action === 0 || existing.length === 0) {
          clock += prng.uint32(gen, 0, 2)
          const next = record(`n${prng.uint32(gen, 0, 9999).toString().padStart(4, '0')}`, clock)
          store.set(next.id, next)
          changed.push(next)
        } else {
          const target = prng.oneOf(gen, existing)
          clock += 1
          const next =
            action === 1
              ? { ...target, notifiedAt: clock, activityCount: target.activityCount + 1, preview: `p${step}`, version: target.version + 1 }
              : { ...target, readAt: clock, version: target.version + 1 }
          store.set(next.id, next)
          changed.push(next)
        }
      }
      incremental.transact(() => upsert(incremental, changed, LIMIT))
      whole.transact(() => project(whole, latest(store, LIMIT)))
      expect(contents(incremental), `seed ${seed} step ${step}`).toEqual(contents(whole))
    }
    expect(incremental.getMap(INBOX_NOTIFICATIONS).size).toBe(Math.min(LIMIT, store.size))
  })

  it('changes nothing when the records are already there', () => {
    const doc = new Y.Doc()
    const records = [record('a', 1), record('b', 2)]
    doc.transact(() => upsert(doc, records, LIMIT))
    let changed = -1
    doc.transact(() => {
      changed = upsert(doc, records, LIMIT)
    })
    expect(changed).toBe(0)
  })
})
