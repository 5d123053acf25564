/**
 * Fan-out on write, resumable and batched: an activity is recorded in storage first (exactly once,
 * by its idempotency key) and stays pending there until its batching window ends (high 1 s,
 * medium 5 s, low 15 s after it happened; an integrator's item is applied at once and its document
 * gets it in its priority's batch). Then the pending activities are applied in groups
 * (core/feeds/groups.ts): a burst in one subject is one group, and each of its feeds is written once
 * for the whole group, so a window of 250 comments over 10,000 followers costs 10,000 row writes,
 * not 2.5 million. A group is applied to its feeds in chunks of {@link FANOUT_CHUNK}; each chunk
 * and the activities' cursors move in one storage transaction, so a crash resumes after the last
 * chunk (`kick` at start drains what storage still holds as pending). Between chunks the event
 * loop runs other work. `user:` feeds of an activity that checks readers get it only when their
 * user may read the subject at that moment. The feeds a chunk changed are handed on (`changed`)
 * with the time of the group's first activity: their documents are written at once, the window
 * having passed already.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import type { FeedPriority } from '../../protocol/index.ts'
import type { FeedStore, TrendInput } from '../storage/feed-types.ts'
import type { FeedActivity } from './aggregate.ts'
import type { FeedClock } from './batcher.ts'
import type { FeedFaults } from './faults.ts'
import { dueAt, dueTimes, groupPending, type PendingGroup } from './groups.ts'

/** Feeds one storage transaction applies a group to. */
export const FANOUT_CHUNK = 200

/** Pending activities read from storage at once (50 comments/s over the longest window fit). */
export const PENDING_PAGE = 1_000

/** Wait before draining again after storage failed. */
export const FANOUT_RETRY_MS = 1_000

/**
 * Least time between the end of one drain and the next one woken for a window's end: under a
 * steady stream a window ends every few milliseconds, and each drain reads the pending page, so
 * the groups that come due within this time are applied together by one drain.
 */
export const FANOUT_DRAIN_GAP_MS = 50

/** How often an instance looks for pending activities it did not record (another instance died before applying them). */
export const FANOUT_POLL_MS = 30_000

export interface FanOutOptions {
  store: FeedStore
  /** Of these user ids, those who may read the subject now. */
  readers(subjectId: string, userIds: readonly string[]): Promise<Set<string>>
  windowMs: number
  /** Batching window per priority: how long an activity stays pending before it is applied. */
  windows: Readonly<Record<FeedPriority, number>>
  clock: FeedClock
  /** A feed changed (its document gets the batch); `at`: when the group's first activity happened. */
  changed(feedId: string, priority: FeedPriority, at: number): void
  faults: FeedFaults
  onError(where: string, error: unknown): void
  metrics?: FanOutMetrics | undefined
  /** An activity was recorded for the first time (`feed.item.created`, core/webhooks/announce.ts). */
  recorded?: ((activity: FeedActivity) => void) | undefined
}

export interface FanOutMetrics {
  /** An activity was recorded (`fresh`), or was recorded before (a replay). */
  recorded(fresh: boolean): void
  /** One chunk applied: the feeds it changed and how long its storage transaction took. */
  chunk(feeds: number, seconds: number): void
}

export interface FanOut {
  /** Records the activity (once); it is applied when its window ends. Resolves once recorded; false: recorded before. */
  record(activity: FeedActivity, trend?: TrendInput): Promise<boolean>
  /** Drains what is due now, and waits for the rest (at start: what a crash left). */
  kick(): void
  /** Resolves when nothing recorded is pending in this process (every window waited for and applied). */
  idle(): Promise<void>
  stop(): Promise<void>
}

const USER_FEED = 'user:'

const URGENCY: Readonly<Record<FeedPriority, number>> = { high: 0, medium: 1, low: 2 }

export function createFanOut(options: FanOutOptions): FanOut {
  const { store } = options
  const { clock } = options
  let running: Promise<void> | null = null
  let again = false
  let stopped = false
  let timer: unknown = null
  let timerAt = Infinity
  const idleWaiters: Array<() => void> = []

  const settle = () => {
    if (running === null && timer === null) for (const resolve of idleWaiters.splice(0)) resolve()
  }

  const allowed = async (activity: FeedActivity, chunk: readonly string[]): Promise<string[]> => {
    if (!activity.checkReaders || activity.subjectId === null) return [...chunk]
    const users = chunk.filter((feed) => feed.startsWith(USER_FEED)).map((feed) => feed.slice(USER_FEED.length))
    const readers = users.length === 0 ? new Set<string>() : await options.readers(activity.subjectId, users)
    return chunk.filter((feed) => !feed.startsWith(USER_FEED) || readers.has(feed.slice(USER_FEED.length)))
  }

  const process = async (group: readonly FeedActivity[], from: number): Promise<void> => {
    const activity = group[0]
    if (!activity) return
    const ids = group.map((a) => a.id)
    const priority = group.reduce<FeedPriority>((p, a) => (URGENCY[a.priority] < URGENCY[p] ? a.priority : p), activity.priority)
    const at = Math.min(...group.map((a) => a.at))
    let cursor = from
    for (;;) {
      if (stopped) return
      const chunk = activity.feeds.slice(cursor, cursor + FANOUT_CHUNK)
      const to = cursor + chunk.length
      const done = to >= activity.feeds.length
      const feeds = activity.kind === 'retract' ? [] : await allowed(activity, chunk)
      const started = performance.now()
      const changed = await store.apply(ids, cursor, feeds, to, done, options.windowMs)
      options.metrics?.chunk(changed.length, (performance.now() - started) / 1000)
      // An integrator's item was applied at once: its document waits for the batch.
      for (const feed of changed) options.changed(feed, priority, activity.summary === null ? at : options.clock.now())
      // Another instance got there first (the cursor moved): it carries on.
      if (changed.length === 0 && feeds.length > 0) return
      if (done) return
      cursor = to
      await yieldToLoop()
    }
  }

  /** Applies the groups due now; resolves with when the next one is due (Infinity: none pending). */
  const drain = async (): Promise<number> => {
    let next: number
    do {
      again = false
      next = Infinity
      for (;;) {
        const page = await store.pending(PENDING_PAGE)
        if (page.length === 0 || stopped) break
        const groups = groupPending(page)
        const due = dueTimes(groups, options.windows)
        const now = clock.now()
        // A subject's groups are applied in order; different subjects side by side, so that their
        // storage writes of one turn share a transaction (SQLite's group commit).
        const bySubject = new Map<string | null, PendingGroup[]>()
        for (const [i, group] of groups.entries()) {
          const at = due[i] ?? now
          if (at > now) {
            next = Math.min(next, at)
            continue
          }
          const subject = group.activities[0]?.subjectId ?? null
          const chain = bySubject.get(subject)
          if (chain) chain.push(group)
          else bySubject.set(subject, [group])
        }
        const outcomes = await Promise.allSettled(
          [...bySubject.values()].map(async (chain) => {
            for (const { activities, cursor } of chain) await process(activities, cursor)
          }),
        )
        const failed = outcomes.find((outcome) => outcome.status === 'rejected')
        if (failed) throw failed.reason
        // Groups still waiting come first in every page read now: the rest waits for them.
        if (next !== Infinity || page.length < PENDING_PAGE) break
      }
    } while (again && !stopped)
    return next
  }

  const wake = (at: number) => {
    if (stopped || at >= timerAt) return
    if (timer !== null) clock.clearTimer(timer)
    timerAt = at
    timer = clock.setTimer(
      () => {
        timer = null
        timerAt = Infinity
        kick()
      },
      Math.max(0, at - clock.now()),
    )
  }

  const kick = () => {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    const run = drain().then(
      (next) => {
        if (next !== Infinity) wake(Math.max(next, clock.now() + FANOUT_DRAIN_GAP_MS))
      },
      (error: unknown) => {
        options.onError('fanout', error)
        wake(clock.now() + FANOUT_RETRY_MS)
      },
    )
    running = run.finally(() => {
      running = null
      settle()
    })
  }

  return {
    async record(activity, trend) {
      const fresh = await store.record(activity, trend)
      options.metrics?.recorded(fresh)
      if (!fresh) return false
      options.recorded?.(activity)
      await options.faults.at('feed-after-record')
      const due = dueAt(activity, options.windows)
      if (due <= clock.now()) kick()
      else wake(due)
      return true
    },
    kick,
    async idle() {
      if (running === null && timer === null) return
      await new Promise<void>((resolve) => idleWaiters.push(resolve))
    },
    async stop() {
      stopped = true
      if (timer !== null) clock.clearTimer(timer)
      timer = null
      timerAt = Infinity
      await running
      settle()
    },
  }
}
