/** Feed activities and a manual clock for the feed unit tests. */
import type { FeedActivity } from '../../core/feeds/aggregate.ts'
import type { FeedClock } from '../../core/feeds/batcher.ts'

export const T0 = 1_700_000_000_000

export function activity(actor: string, at: number, extra: Partial<FeedActivity> = {}): FeedActivity {
  const commentId = extra.commentId ?? `c-${actor}-${at}`
  return {
    id: `comment:s1:${commentId}`,
    kind: 'add',
    itemId: `comment:${commentId}`,
    type: 'comment',
    subjectId: 's1',
    threadId: 't1',
    commentId,
    actorIds: [actor],
    actorName: actor[0]?.toUpperCase() + actor.slice(1),
    summary: null,
    priority: 'medium',
    at,
    feeds: ['subject:s1'],
    checkReaders: false,
    ...extra,
  }
}

/** A clock whose time moves only when the test says so; due timers run in order. */
export interface ManualClock extends FeedClock {
  readonly start: number
  advance(ms: number): void
}

export function manualClock(start = T0): ManualClock {
  let now = start
  let next = 0
  const timers = new Map<number, { at: number; run: () => void }>()
  return {
    start,
    now: () => now,
    setTimer(run, ms) {
      const id = ++next
      timers.set(id, { at: now + ms, run })
      return id
    },
    clearTimer(handle) {
      if (typeof handle === 'number') timers.delete(handle)
    },
    advance(ms) {
      const end = now + ms
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
        if (!due) break
        timers.delete(due[0])
        now = Math.max(now, due[1].at)
        due[1].run()
      }
      now = end
    },
  }
}
