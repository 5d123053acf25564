/**
 * Feeds composed (issue 18): the fan-out (storage first, then feeds in chunks), the priority
 * batcher and the document writer, and the Hocuspocus extension that reads comment activity.
 * server/server.ts creates it before Hocuspocus and starts it once the server listens (the
 * fan-out then resumes what storage still holds as pending). With `REDIS_URL`, changed feeds are
 * announced to the other instances, which write the feed documents they have loaded
 * (server/feeds/cluster.ts).
 */
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { commentsDocumentName, feedDocumentName, type FeedPriority } from '../../protocol/index.ts'
import { Feeds } from '../../extensions/feeds/index.ts'
import type { AccessResolver } from '../../core/access/resolve.ts'
import { DEFAULT_AGGREGATION_WINDOW_MS } from '../../core/feeds/aggregate.ts'
import { createBatcher, DEFAULT_BATCH_WINDOWS, systemClock, type Batcher, type FeedClock } from '../../core/feeds/batcher.ts'
import { createFeedFaults } from '../../core/feeds/faults.ts'
import { createFanOut, FANOUT_POLL_MS, type FanOut } from '../../core/feeds/fanout.ts'
import { DEFAULT_HALF_LIFE_MINUTES } from '../../core/feeds/trending.ts'
import { createFeedWriter, DEFAULT_FEED_LIMIT, type FeedWriter } from '../../core/feeds/writer.ts'
import type { Storage } from '../../core/storage/types.ts'
import type { ParleyEvents } from '../../core/events.ts'
import { announceFeedItem } from '../../core/webhooks/announce.ts'
import { createFeedMetrics } from '../observability/feed-metrics.ts'
import { createFeedCluster, FEED_LOCK_RETRY_MS, type FeedCluster } from './cluster.ts'

/** Feed settings beyond the configuration (tests, embedding). */
export interface FeedOptions {
  /** Batching window per priority (ms); default high 1 s, medium 5 s, low 15 s. */
  windows?: Partial<Record<FeedPriority, number>>
  /** Aggregation window (ms); default 15 min. */
  aggregationWindowMs?: number
  /** Half-life of the stored trending score (minutes); default 60. */
  halfLifeMinutes?: number
  /** Time for batching and activity timestamps (tests inject one). */
  clock?: FeedClock
  /** Called after each batch written to a feed document (the bench measures comment → document). */
  written?(feedId: string, changes: number): void
}

export interface FeedsOptions extends FeedOptions {
  storage: Storage
  access: AccessResolver
  logger: Logger
  hookError(hook: string): void
  /** Where the feed metrics are registered. */
  registry: Registry
  /** Items a feed document keeps (`PARLEY_FEED_LIMIT`). */
  limit?: number
  faultPoint?: string | undefined
  /** Several instances share documents (`REDIS_URL`): changed feeds are announced to the others. */
  redisUrl?: string | undefined
  hocuspocus(): Hocuspocus
  /** Where `feed.item.created` is announced (once per recorded activity). */
  events?: ParleyEvents | undefined
}

export interface FeedService {
  readonly extension: Feeds
  readonly fanOut: FanOut
  readonly batcher: Batcher
  readonly writer: FeedWriter
  readonly limit: number
  readonly halfLifeMinutes: number
  readonly clock: FeedClock
  start(): void
  close(): Promise<void>
}

export function createFeeds(options: FeedsOptions): FeedService {
  const { storage, access, logger, events } = options
  const clock = options.clock ?? systemClock
  const limit = options.limit ?? DEFAULT_FEED_LIMIT
  const halfLifeMinutes = options.halfLifeMinutes ?? DEFAULT_HALF_LIFE_MINUTES
  const metrics = createFeedMetrics(options.registry)
  const isLoaded = (feedId: string) => options.hocuspocus().documents.has(feedDocumentName(feedId))
  // Another instance's notice: the feeds loaded here get their batch (the window has passed).
  const cluster: Promise<FeedCluster | null> = options.redisUrl
    ? createFeedCluster(options.redisUrl, logger, (notice) => {
        for (const feedId of notice.feeds) if (isLoaded(feedId)) batcher.schedule(feedId, notice.priority, notice.at)
      }).catch((error: unknown) => {
        logger.error({ err: error }, 'feed notices across instances are off: other instances show feeds when they load them')
        return null
      })
    : Promise.resolve(null)
  const writer = createFeedWriter({
    store: storage.feeds,
    limit,
    isLoaded: (name) => options.hocuspocus().documents.has(name),
    open: (name, context) => options.hocuspocus().openDirectConnection(name, context),
    written(feedId, changes) {
      metrics.batchWritten()
      options.written?.(feedId, changes)
    },
    ...(options.redisUrl
      ? {
          async lock(feedId: string) {
            const c = await cluster
            // Without Redis for a moment, the write goes ahead: a rare duplicate is mended by the next write.
            return c ? c.lock(feedId).catch(() => async () => undefined) : async () => undefined
          },
          lockRetryMs: FEED_LOCK_RETRY_MS,
        }
      : {}),
  })
  const windows = { ...DEFAULT_BATCH_WINDOWS, ...options.windows }
  const batcher = createBatcher({
    clock,
    windows,
    flush: (feedId) => writer.write(feedId),
    onError: (feedId, error) => {
      options.hookError('feedWrite')
      logger.error({ feedId, err: error }, 'a feed document batch was not written; storage keeps the items')
    },
  })
  const faults = createFeedFaults(options.faultPoint)
  const fanOut = createFanOut({
    store: storage.feeds,
    windowMs: options.aggregationWindowMs ?? DEFAULT_AGGREGATION_WINDOW_MS,
    windows,
    clock,
    async readers(subjectId, userIds) {
      const users = await Promise.all(userIds.map(async (id) => ({ id, access: (await storage.users.get(id))?.access ?? null })))
      const allowed = await access.filterReaders(commentsDocumentName(subjectId), users)
      return new Set(allowed.map((user) => user.id))
    },
    // The window has passed when a group is applied: its documents are written at once.
    changed(feedId, priority, at) {
      // A feed document not loaded here is projected from storage when it loads.
      if (isLoaded(feedId)) batcher.schedule(feedId, priority, at)
      if (options.redisUrl) void cluster.then((c) => c?.changed(feedId, priority, at))
    },
    faults,
    metrics: metrics.fanOut,
    recorded: events === undefined ? undefined : (activity) => announceFeedItem(events, activity),
    onError: (where, error) => {
      options.hookError(where)
      logger.error({ err: error }, 'feed fan-out failed; retried from storage')
    },
  })
  let poll: NodeJS.Timeout | undefined
  const extension = new Feeds({
    storage,
    fanOut,
    writer,
    logger,
    trendingHalfLifeMs: halfLifeMinutes * 60_000,
    now: () => clock.now(),
    faults,
    hookError: options.hookError,
  })
  return {
    extension,
    fanOut,
    batcher,
    writer,
    limit,
    halfLifeMinutes,
    clock,
    start() {
      fanOut.kick()
      poll = setInterval(() => fanOut.kick(), FANOUT_POLL_MS)
      poll.unref()
    },
    async close() {
      clearInterval(poll)
      await fanOut.stop()
      await batcher.drain()
      await (await cluster)?.close()
    },
  }
}
