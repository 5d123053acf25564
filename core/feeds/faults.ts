/**
 * Test-only fault points of the feed fan-out (`PARLEY_FAULT`, like core/notifications/faults.ts):
 * the process kills itself (SIGKILL) when it reaches the named point.
 */
import { FAULT_FLUSH_MS } from '../notifications/faults.ts'

export const FEED_FAULT_POINTS = [
  /** A comment was applied and acknowledged; its feed activity is about to be recorded. */
  'feed-before-record',
  /** An activity is recorded in storage; nothing of it is fanned out yet. */
  'feed-after-record',
] as const

export type FeedFaultPoint = (typeof FEED_FAULT_POINTS)[number]

export interface FeedFaults {
  /** Never resolves at the configured point (the process dies); resolves at once elsewhere. */
  at(point: FeedFaultPoint): Promise<void>
}

export function isFeedFaultPoint(point: string | undefined): point is FeedFaultPoint {
  return (FEED_FAULT_POINTS as readonly string[]).includes(point ?? '')
}

export function createFeedFaults(point: string | undefined): FeedFaults {
  return {
    at(reached) {
      if (reached !== point) return Promise.resolve()
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), FAULT_FLUSH_MS)
      return new Promise<void>(() => undefined)
    },
  }
}
