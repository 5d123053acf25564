/**
 * Feeds across instances (`REDIS_URL`): a feed document is written only where it is loaded, and
 * the instance that fanned an activity out may not be one of those. Each chunk's changed feeds are
 * published on `parley:feeds:changed`; every other instance writes those of them it has loaded
 * (its batcher, its writer, from storage). Two instances that both have a feed loaded take turns:
 * a write holds `parley:feed-lock:<feedId>` (SET NX), kept {@link FEED_LOCK_SETTLE_MS} after the
 * write so the update reaches the other instance (through @hocuspocus/extension-redis) before it
 * writes; an instance that finds the lock held tries again after {@link FEED_LOCK_RETRY_MS}.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { FEED_PRIORITIES, type FeedPriority } from '../../protocol/index.ts'

/** Prefix of Parley's Redis keys and channels (REDIS_PREFIX of server/scaling/redis.ts, not imported: that module reaches the HTTP app). */
const REDIS_PREFIX = 'parley'

/** Channel of the changed-feeds notices. */
export const FEEDS_CHANNEL = `${REDIS_PREFIX}:feeds:changed`

/** Longest a write may hold a feed's lock (a process that dies holding it frees it then). */
export const FEED_LOCK_MS = 10_000

/** How long the lock stays after a write: the update crosses Redis before another instance writes. */
export const FEED_LOCK_SETTLE_MS = 100

/** Wait before trying a held lock again. */
export const FEED_LOCK_RETRY_MS = 150

export interface FeedNotice {
  feeds: string[]
  priority: FeedPriority
  at: number
}

export interface FeedCluster {
  /** Tells the other instances that these feeds changed (one notice per event-loop turn). */
  changed(feedId: string, priority: FeedPriority, at: number): void
  /** Takes the feed's write lock; resolves with its release, or null when another instance holds it. */
  lock(feedId: string): Promise<(() => Promise<void>) | null>
  close(): Promise<void>
}

function parseNotice(raw: string, self: string): FeedNotice | null {
  const value: unknown = JSON.parse(raw)
  if (typeof value !== 'object' || value === null) return null
  const { from, feeds, priority, at } = value as Record<string, unknown>
  if (from === self || !Array.isArray(feeds) || typeof at !== 'number') return null
  if (!FEED_PRIORITIES.includes(priority as FeedPriority)) return null
  return { feeds: feeds.filter((f): f is string => typeof f === 'string'), priority: priority as FeedPriority, at }
}

export async function createFeedCluster(url: string, logger: Logger, onNotice: (notice: FeedNotice) => void): Promise<FeedCluster> {
  const { Redis: IORedis } = await import('ioredis')
  const client = (role: string): Redis => {
    const redis = new IORedis(url, { maxRetriesPerRequest: 3 })
    redis.on('error', (error: Error) => logger.warn({ err: error, role }, 'redis connection error'))
    return redis
  }
  const self = randomUUID()
  const publisher = client('feeds')
  const subscriber = client('feeds-subscriber')
  subscriber.on('message', (channel: string, raw: string) => {
    if (channel !== FEEDS_CHANNEL) return
    try {
      const notice = parseNotice(raw, self)
      if (notice) onNotice(notice)
    } catch (error) {
      logger.warn({ err: error }, 'an unreadable feed notice was ignored')
    }
  })
  await subscriber.subscribe(FEEDS_CHANNEL)

  // Notices of one event-loop turn (a chunk) go out together, per priority and time.
  const buffered = new Map<string, FeedNotice>()
  let flushing = false
  const flush = () => {
    flushing = false
    for (const notice of buffered.values()) {
      publisher.publish(FEEDS_CHANNEL, JSON.stringify({ from: self, ...notice })).catch((error: unknown) => {
        logger.warn({ err: error, feeds: notice.feeds.length }, 'a feed notice was not published; other instances show it when the feed loads again')
      })
    }
    buffered.clear()
  }

  return {
    changed(feedId, priority, at) {
      const key = `${priority}:${at}`
      const notice = buffered.get(key)
      if (notice) notice.feeds.push(feedId)
      else buffered.set(key, { feeds: [feedId], priority, at })
      if (!flushing) {
        flushing = true
        setImmediate(flush)
      }
    },
    async lock(feedId) {
      const key = `${REDIS_PREFIX}:feed-lock:${feedId}`
      const token = randomUUID()
      const taken = await publisher.set(key, token, 'PX', FEED_LOCK_MS, 'NX')
      if (taken !== 'OK') return null
      return async () => {
        // Only our own lock gets the short expiry (a lock that expired may be someone else's now).
        if ((await publisher.get(key)) === token) await publisher.pexpire(key, FEED_LOCK_SETTLE_MS)
      }
    },
    async close() {
      flush()
      subscriber.disconnect()
      await publisher.quit().catch(() => undefined)
    },
  }
}
