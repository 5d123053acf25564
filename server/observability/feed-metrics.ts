/** Prometheus metrics of the feed fan-out and feed document batches (issue 18). */
import { Counter, Histogram, type Registry } from 'prom-client'
import type { FanOutMetrics } from '../../core/feeds/fanout.ts'

/** Buckets for one fan-out chunk's storage transaction, in seconds: 100 µs to 5 s. */
const CHUNK_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]

export interface FeedMetrics {
  fanOut: FanOutMetrics
  /** A batch was written to a feed document. */
  batchWritten(): void
}

export function createFeedMetrics(registry: Registry): FeedMetrics {
  const activities = new Counter({
    name: 'parley_feed_activities_total',
    help: 'Feed activities recorded (recorded), or recorded before and ignored (duplicate)',
    labelNames: ['result'],
    registers: [registry],
  })
  const rows = new Counter({ name: 'parley_feed_rows_applied_total', help: 'Feed rows changed by the fan-out', registers: [registry] })
  const chunks = new Histogram({
    name: 'parley_feed_fanout_chunk_seconds',
    help: 'Storage transaction of one fan-out chunk (up to 200 feeds)',
    buckets: CHUNK_BUCKETS,
    registers: [registry],
  })
  const batches = new Counter({ name: 'parley_feed_document_batches_total', help: 'Batches written to feed documents', registers: [registry] })
  return {
    fanOut: {
      recorded: (fresh) => activities.inc({ result: fresh ? 'recorded' : 'duplicate' }),
      chunk(feeds, seconds) {
        rows.inc(feeds)
        chunks.observe(seconds)
      },
    },
    batchWritten: () => batches.inc(),
  }
}
