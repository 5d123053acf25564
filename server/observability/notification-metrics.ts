/** Prometheus metrics of mention detection and the notification outbox. */
import { Counter, Histogram, type Registry } from 'prom-client'
import type { MentionMetrics } from '../../extensions/mentions/index.ts'
import type { MentionDropReason } from '../../core/notifications/mention-limits.ts'
import type { OutboxMetrics } from '../../core/notifications/outbox.ts'
import type { RecordResult } from '../../core/storage/types.ts'

/** Buckets for detection, in seconds: 1 µs to 1 s. */
const DETECTION_BUCKETS = [0.000001, 0.000005, 0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1]

export function createNotificationMetrics(
  registry: Registry,
  hookError: (hook: string) => void,
): {
  mentions: MentionMetrics
  outbox: OutboxMetrics
  mentionsDropped(reason: MentionDropReason, count: number): void
  /** Counts what one recording did to notifications. */
  recorded(result: RecordResult): void
} {
  const detection = new Histogram({
    name: 'parley_mention_detection_seconds',
    help: 'Mention detection per transaction: diff (reading the transaction, synchronous) and record (resolution, access, storage)',
    labelNames: ['phase'],
    buckets: DETECTION_BUCKETS,
    registers: [registry],
  })
  const deliveries = new Counter({
    name: 'parley_outbox_deliveries_total',
    help: 'Outbox rows delivered or failed, by channel',
    labelNames: ['channel', 'result'],
    registers: [registry],
  })
  const dropped = new Counter({
    name: 'parley_mentions_dropped_total',
    help: 'Mentions not notified because of a bound: beyond the distinct mentions per comment (per_comment), or beyond the author’s mention notifications per minute (per_author)',
    labelNames: ['reason'],
    registers: [registry],
  })
  const recorded = new Counter({
    name: 'parley_notifications_recorded_total',
    help: 'Notifications recorded, by kind and change: created, changed (activity folded in, or a reaction taken back), removed (a take-back emptied it)',
    labelNames: ['kind', 'change'],
    registers: [registry],
  })
  return {
    recorded(result) {
      for (const { record, created } of result.notifications) recorded.inc({ kind: record.kind, change: created ? 'created' : 'changed' })
      if (result.removed.length > 0) recorded.inc({ kind: 'reaction', change: 'removed' }, result.removed.length)
    },
    mentionsDropped: (reason, count) => dropped.inc({ reason }, count),
    mentions: { observeDetection: (phase, seconds) => detection.observe({ phase }, seconds), hookError },
    outbox: {
      delivered: (channel, count) => deliveries.inc({ channel, result: 'delivered' }, count),
      failed: (channel, count) => deliveries.inc({ channel, result: 'failed' }, count),
      hookError,
    },
  }
}
