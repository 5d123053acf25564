/** Conversions every backend shares for notification and outbox rows. */
import type { NotificationPriority, NotificationRecord, OutboxRow } from '../../core/storage/notification-types.ts'

/** A stored notification row; BIGINT columns may come back as strings (PostgreSQL). */
export interface NotificationRow {
  user_id: string
  id: string
  kind: string
  priority: string
  subject_id: string
  thread_id: string | null
  comment_id: string | null
  actors: string
  activity_count: number | string
  preview: string
  created_at: number | string
  notified_at: number | string
  read_at: number | string | null
  seen_at: number | string | null
  archived_at: number | string | null
  version: number | string
}

export interface OutboxDbRow {
  user_id: string
  notification_id: string
  channel: string
  version: number | string
  delivered_version: number | string | null
  status: string
  attempts: number | string
  next_attempt_at: number | string
  last_error: string | null
}

export const NOTIFICATION_COLUMNS =
  'user_id, id, kind, priority, subject_id, thread_id, comment_id, actors, activity_count, preview, created_at, notified_at, read_at, seen_at, archived_at, version'

export const OUTBOX_COLUMNS = 'user_id, notification_id, channel, version, delivered_version, status, attempts, next_attempt_at, last_error'

const PRIORITIES: ReadonlySet<string> = new Set<NotificationPriority>(['urgent', 'high', 'normal', 'low'])

function num(value: number | string): number {
  const n = typeof value === 'number' ? value : Number(value)
  if (!Number.isSafeInteger(n)) throw new Error(`${value} is not a safe integer`)
  return n
}

function nullableNum(value: number | string | null): number | null {
  return value === null ? null : num(value)
}

function parseActors(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text)
    return Array.isArray(parsed) ? parsed.filter((a): a is string => typeof a === 'string') : []
  } catch {
    return []
  }
}

export function toNotification(row: NotificationRow): NotificationRecord {
  return {
    userId: row.user_id,
    id: row.id,
    kind: row.kind,
    priority: PRIORITIES.has(row.priority) ? (row.priority as NotificationPriority) : 'normal',
    subjectId: row.subject_id,
    threadId: row.thread_id,
    commentId: row.comment_id,
    actors: parseActors(row.actors),
    activityCount: num(row.activity_count),
    preview: row.preview,
    createdAt: num(row.created_at),
    notifiedAt: num(row.notified_at),
    readAt: nullableNum(row.read_at),
    seenAt: nullableNum(row.seen_at),
    archivedAt: nullableNum(row.archived_at),
    version: num(row.version),
  }
}

/** The values of a record in {@link NOTIFICATION_COLUMNS} order. */
export function notificationValues(r: NotificationRecord): unknown[] {
  return [
    r.userId,
    r.id,
    r.kind,
    r.priority,
    r.subjectId,
    r.threadId,
    r.commentId,
    JSON.stringify(r.actors),
    r.activityCount,
    r.preview,
    r.createdAt,
    r.notifiedAt,
    r.readAt,
    r.seenAt,
    r.archivedAt,
    r.version,
  ]
}

export function toOutboxRow(row: OutboxDbRow): OutboxRow {
  return {
    userId: row.user_id,
    notificationId: row.notification_id,
    channel: row.channel,
    version: num(row.version),
    deliveredVersion: nullableNum(row.delivered_version),
    status: row.status === 'delivered' ? 'delivered' : 'pending',
    attempts: num(row.attempts),
    nextAttemptAt: num(row.next_attempt_at),
    lastError: row.last_error,
  }
}
