/**
 * Priority batching: a feed document is written once per batch, not once per activity. Each
 * scheduled feed is due `windows[priority]` after the activity that scheduled it (a higher priority
 * brings the deadline forward, never back); when it is due, `flush(feed)` runs once for everything
 * scheduled until then (one Yjs transaction); a feed scheduled past its deadline is flushed at once. The clock is injected so tests control time.
 */
import type { FeedPriority } from '../../protocol/index.ts'

/** Longest wait before an activity reaches feed documents, per priority (ms). */
export const DEFAULT_BATCH_WINDOWS: Readonly<Record<FeedPriority, number>> = { high: 1_000, medium: 5_000, low: 15_000 }

export interface FeedClock {
  now(): number
  setTimer(run: () => void, ms: number): unknown
  clearTimer(handle: unknown): void
}

export const systemClock: FeedClock = {
  now: () => Date.now(),
  setTimer(run, ms) {
    const timer = setTimeout(run, ms)
    timer.unref()
    return timer
  },
  clearTimer(handle) {
    clearTimeout(handle as NodeJS.Timeout)
  },
}

export interface BatcherOptions {
  clock: FeedClock
  windows: Readonly<Record<FeedPriority, number>>
  /** Writes one feed's batch; batches of one feed never overlap. */
  flush(feed: string): Promise<void>
  onError(feed: string, error: unknown): void
}

export interface Batcher {
  /** The feed changed at `at` (default now) with this priority. */
  schedule(feed: string, priority: FeedPriority, at?: number): void
  /** Feeds waiting for their batch. */
  readonly pending: number
  /** Flushes everything now (shutdown); resolves when every batch is written. */
  drain(): Promise<void>
}

export function createBatcher(options: BatcherOptions): Batcher {
  const { clock, windows } = options
  const due = new Map<string, number>()
  const running = new Map<string, Promise<void>>()
  let timer: unknown = null
  let timerAt = Infinity

  const flushOne = (feed: string): Promise<void> => {
    due.delete(feed)
    const previous = running.get(feed)
    const write = async () => options.flush(feed)
    // Starts at once when the feed has no batch in flight (the flush reads the clock now).
    const next = (previous ? previous.then(write) : write()).catch((error: unknown) => options.onError(feed, error))
    running.set(feed, next)
    void next.then(() => {
      if (running.get(feed) === next) running.delete(feed)
    })
    return next
  }

  const fire = () => {
    timer = null
    timerAt = Infinity
    const now = clock.now()
    for (const [feed, at] of [...due]) if (at <= now) void flushOne(feed)
    arm()
  }

  const arm = () => {
    let earliest = Infinity
    for (const at of due.values()) earliest = Math.min(earliest, at)
    if (earliest === Infinity || earliest >= timerAt) return
    if (timer !== null) clock.clearTimer(timer)
    timerAt = earliest
    timer = clock.setTimer(fire, Math.max(0, earliest - clock.now()))
  }

  return {
    schedule(feed, priority, at = clock.now()) {
      const deadline = at + windows[priority]
      // Already due (the fan-out waited for the window): written now, without a timer.
      if (deadline <= clock.now()) {
        void flushOne(feed)
        return
      }
      const current = due.get(feed)
      if (current === undefined || deadline < current) due.set(feed, deadline)
      arm()
    },
    get pending() {
      return due.size
    },
    async drain() {
      if (timer !== null) clock.clearTimer(timer)
      timer = null
      timerAt = Infinity
      await Promise.all([...due.keys()].map(flushOne))
      await Promise.all(running.values())
    },
  }
}
