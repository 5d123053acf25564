/**
 * Fan-out on write, resumable: an activity is recorded in storage first (exactly once, by its
 * idempotency key), then applied to its feeds in chunks of {@link FANOUT_CHUNK}; each chunk and the
 * activity's cursor move in one storage transaction, so a crash resumes after the last chunk
 * (`start` drains what storage still holds as pending). Between chunks the event loop runs other
 * work. `user:` feeds of an activity that checks readers get it only when their user may read the
 * subject at that moment. Changed feeds are handed to the batcher (documents are written per batch).
 * Pending activities that share their feeds, type and subject (a burst in one subject) are applied
 * as a group: each feed's row is written once per chunk for the whole group.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import type { FeedPriority } from '../../protocol/index.ts'
import type { FeedStore, PendingFeedActivity, TrendInput } from '../storage/feed-types.ts'
import type { FeedActivity } from './aggregate.ts'
import type { FeedFaults } from './faults.ts'

/** Feeds one storage transaction applies an activity to. */
export const FANOUT_CHUNK = 200

/** Pending activities read from storage at once. */
export const PENDING_PAGE = 100

/** Most activities applied as one group. */
export const MAX_GROUP = 100

/** Wait before draining again after storage failed. */
export const FANOUT_RETRY_MS = 1_000

export interface FanOutOptions {
  store: FeedStore
  /** Of these user ids, those who may read the subject now. */
  readers(subjectId: string, userIds: readonly string[]): Promise<Set<string>>
  windowMs: number
  /** A feed changed (its document gets the batch). */
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
  /** Records the activity (once) and fans it out; resolves once it is recorded. False: recorded before. */
  record(activity: FeedActivity, trend?: TrendInput): Promise<boolean>
  /** Drains pending activities (at start: what a crash left). */
  kick(): void
  /** Resolves when nothing is pending in this process. */
  idle(): Promise<void>
  stop(): Promise<void>
}

const USER_FEED = 'user:'

const URGENCY: Readonly<Record<FeedPriority, number>> = { high: 0, medium: 1, low: 2 }

/**
 * The page in groups, in the order of their first activity: foldable `add` activities with the same
 * cursor, type, subject and feeds join one group; any other activity is alone and closes the open
 * groups of its subject (a retraction never overtakes the comment it takes back).
 */
export function groupPending(page: readonly PendingFeedActivity[]): Array<{ activities: FeedActivity[]; cursor: number }> {
  const groups: Array<{ activities: FeedActivity[]; cursor: number }> = []
  const open = new Map<string, { activities: FeedActivity[]; cursor: number }>()
  for (const { activity, cursor } of page) {
    if (activity.kind !== 'add' || activity.summary !== null) {
      for (const key of [...open.keys()]) if (key.startsWith(`${activity.subjectId ?? ''}\n`)) open.delete(key)
      groups.push({ activities: [activity], cursor })
      continue
    }
    const key = [activity.subjectId ?? '', activity.type, cursor, activity.checkReaders, ...activity.feeds].join('\n')
    const group = open.get(key)
    if (group && group.activities.length < MAX_GROUP) {
      group.activities.push(activity)
      continue
    }
    const fresh = { activities: [activity], cursor }
    open.set(key, fresh)
    groups.push(fresh)
  }
  return groups
}

export function createFanOut(options: FanOutOptions): FanOut {
  const { store } = options
  let running: Promise<void> | null = null
  let again = false
  let stopped = false
  let retry: NodeJS.Timeout | undefined

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
      for (const feed of changed) options.changed(feed, priority, activity.at)
      // Another instance got there first (the cursor moved): it carries on.
      if (changed.length === 0 && feeds.length > 0) return
      if (done) return
      cursor = to
      await yieldToLoop()
    }
  }

  const drain = async (): Promise<void> => {
    do {
      again = false
      for (;;) {
        const page = await store.pending(PENDING_PAGE)
        if (page.length === 0 || stopped) break
        for (const { activities, cursor } of groupPending(page)) await process(activities, cursor)
        if (page.length < PENDING_PAGE) break
      }
    } while (again && !stopped)
  }

  const kick = () => {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    running = drain()
      .catch((error: unknown) => {
        options.onError('fanout', error)
        clearTimeout(retry)
        retry = setTimeout(kick, FANOUT_RETRY_MS)
        retry.unref()
      })
      .finally(() => {
        running = null
      })
  }

  return {
    async record(activity, trend) {
      const fresh = await store.record(activity, trend)
      options.metrics?.recorded(fresh)
      if (!fresh) return false
      options.recorded?.(activity)
      await options.faults.at('feed-after-record')
      kick()
      return true
    },
    kick,
    async idle() {
      while (running) await running
    },
    async stop() {
      stopped = true
      clearTimeout(retry)
      await running
    },
  }
}
