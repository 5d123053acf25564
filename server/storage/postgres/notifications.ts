/**
 * Notifications, handled mentions and comments, the outbox and detection marks in PostgreSQL.
 * Several instances may record at once: idempotency keys and handled rows are inserted with
 * ON CONFLICT DO NOTHING, a folded notification is locked (FOR UPDATE) while it changes, and
 * outbox claims skip rows another instance holds (SKIP LOCKED).
 */
import type { PoolClient } from 'pg'
import { foldInto, newNotification } from '../../../core/storage/notification-fold.ts'
import {
  NOTIFICATION_COLUMNS,
  OUTBOX_COLUMNS,
  notificationValues,
  toNotification,
  toOutboxRow,
  type NotificationRow,
  type OutboxDbRow,
} from '../notification-rows.ts'
import type {
  ActivityInput,
  HandledSets,
  ListQuery,
  NotificationMarks,
  NotificationRecord,
  NotificationStore,
  OutboxRow,
  RecordBatch,
  RecordResult,
} from '../../../core/storage/notification-types.ts'
import { toNumber, type PostgresPool } from './pool.ts'
import { handledCommentEvents, markCommentEventHandled, takeBackReaction } from './comment-events.ts'

const UNREAD = '(read_at IS NULL OR read_at < notified_at)'
const UNSEEN = '(seen_at IS NULL OR seen_at < notified_at)'
const PLACEHOLDERS = NOTIFICATION_COLUMNS.split(',')
  .map((_, i) => `$${i + 1}`)
  .join(', ')
const INSERT_NOTIFICATION = `INSERT INTO notifications (${NOTIFICATION_COLUMNS}) VALUES (${PLACEHOLDERS}) ON CONFLICT (user_id, id) DO NOTHING RETURNING id`
const UPDATE_NOTIFICATION = `UPDATE notifications SET (${NOTIFICATION_COLUMNS}) = (${PLACEHOLDERS}) WHERE user_id = $1 AND id = $2`
const QUEUE = `
  INSERT INTO notification_outbox (user_id, notification_id, channel, version, status, attempts, next_attempt_at, updated_at)
  VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)
  ON CONFLICT (user_id, notification_id, channel) DO UPDATE SET version = excluded.version, status = 'pending', attempts = 0,
    next_attempt_at = excluded.next_attempt_at, last_error = NULL, updated_at = excluded.updated_at`

async function queue(client: PoolClient, record: NotificationRecord, channels: readonly string[], now: number): Promise<void> {
  for (const channel of channels) await client.query(QUEUE, [record.userId, record.id, channel, record.version, now])
}

async function apply(
  client: PoolClient,
  activity: ActivityInput,
  channels: readonly string[],
  now: number,
): Promise<{ record: NotificationRecord; created: boolean } | null> {
  const { kind, subjectId, commentId, recipient } = activity.key
  const key = await client.query(
    `INSERT INTO notification_keys (kind, subject_id, comment_id, recipient, notification_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT DO NOTHING RETURNING kind`,
    [kind, subjectId, commentId, recipient, activity.notificationId, now],
  )
  if (key.rowCount === 0) return null
  const fresh = newNotification(activity)
  const inserted = await client.query(INSERT_NOTIFICATION, notificationValues(fresh))
  if ((inserted.rowCount ?? 0) > 0) {
    await queue(client, fresh, channels, now)
    return { record: fresh, created: true }
  }
  const rows = await client.query<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = $1 AND id = $2 FOR UPDATE`, [
    recipient,
    activity.notificationId,
  ])
  const existing = rows.rows[0] ? toNotification(rows.rows[0]) : null
  const record = existing ? foldInto(existing, activity) : null
  if (!record) return null
  await client.query(UPDATE_NOTIFICATION, notificationValues(record))
  await queue(client, record, channels, now)
  return { record, created: false }
}

export class PostgresNotificationStore implements NotificationStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  async handled(subjectId: string): Promise<HandledSets> {
    const [mentionRows, commentRows, events] = await Promise.all([
      this.db.query<{ comment_id: string; user_id: string }>('SELECT comment_id, user_id FROM mentions_handled WHERE subject_id = $1', [subjectId]),
      this.db.query<{ comment_id: string }>('SELECT comment_id FROM comments_handled WHERE subject_id = $1', [subjectId]),
      handledCommentEvents(this.db, subjectId),
    ])
    const mentions = new Map<string, Set<string>>()
    for (const row of mentionRows) {
      const users = mentions.get(row.comment_id) ?? new Set<string>()
      users.add(row.user_id)
      mentions.set(row.comment_id, users)
    }
    return { mentions, comments: new Set(commentRows.map((row) => row.comment_id)), events }
  }

  record(batch: RecordBatch): Promise<RecordResult> {
    return this.db.transaction(async (client) => {
      const now = Date.now()
      const result: RecordResult = { mentions: [], notifications: [], removed: [] }
      for (const mention of batch.mentions) {
        const inserted = await client.query(
          'INSERT INTO mentions_handled (subject_id, comment_id, user_id, outcome, handled_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING user_id',
          [mention.subjectId, mention.commentId, mention.userId, mention.outcome, now],
        )
        if (inserted.rowCount === 0) continue
        result.mentions.push(mention)
        const applied = mention.activity ? await apply(client, mention.activity, batch.channels, now) : null
        if (applied) result.notifications.push(applied)
      }
      for (const comment of batch.comments) {
        const inserted = await client.query(
          'INSERT INTO comments_handled (subject_id, comment_id, handled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING comment_id',
          [comment.subjectId, comment.commentId, now],
        )
        if (inserted.rowCount === 0) continue
        ;(result.comments ??= []).push(comment.commentId)
        for (const activity of comment.activities) {
          const applied = await apply(client, activity, batch.channels, now)
          if (applied) result.notifications.push(applied)
        }
      }
      for (const event of batch.events ?? []) {
        if (!(await markCommentEventHandled(client, event, now))) continue
        for (const activity of event.activities) {
          const applied = await apply(client, activity, batch.channels, now)
          if (applied) result.notifications.push(applied)
        }
      }
      for (const takeBack of batch.takeBacks ?? []) {
        const outcome = await takeBackReaction(client, takeBack)
        if (outcome && 'removed' in outcome) result.removed.push(outcome.removed)
        if (outcome && 'changed' in outcome) {
          await queue(client, outcome.changed, batch.channels, now)
          result.notifications.push({ record: outcome.changed, created: false })
        }
      }
      return result
    })
  }

  async get(userId: string, id: string): Promise<NotificationRecord | null> {
    const rows = await this.db.query<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = $1 AND id = $2`, [userId, id])
    return rows[0] ? toNotification(rows[0]) : null
  }

  async list(userId: string, query: ListQuery): Promise<NotificationRecord[]> {
    const rows = await this.db.query<NotificationRow>(
      `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = $1 AND (NOT $2::boolean OR ${UNREAD})
         AND ($6::boolean IS NULL OR (archived_at IS NOT NULL) = $6::boolean)
         AND ($3::bigint IS NULL OR notified_at < $3 OR (notified_at = $3 AND id COLLATE "C" > $4))
       ORDER BY notified_at DESC, id COLLATE "C" LIMIT $5`,
      [userId, query.unreadOnly, query.after?.notifiedAt ?? null, query.after?.id ?? '', query.limit, query.archived ?? null],
    )
    return rows.map(toNotification)
  }

  async unreadCount(userId: string): Promise<number> {
    const rows = await this.db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND ${UNREAD} AND archived_at IS NULL`, [
      userId,
    ])
    return toNumber(rows[0]?.n ?? 0)
  }

  async unseenCount(userId: string): Promise<number> {
    const rows = await this.db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND ${UNSEEN} AND archived_at IS NULL`, [
      userId,
    ])
    return toNumber(rows[0]?.n ?? 0)
  }

  markSeen(userId: string, ids: readonly string[] | 'all', at: number, channels: readonly string[]): Promise<NotificationRecord[]> {
    return this.markForward('seen_at', UNSEEN, userId, ids, at, channels)
  }

  archive(userId: string, ids: readonly string[], at: number, channels: readonly string[]): Promise<NotificationRecord[]> {
    return this.db.transaction(async (client) => {
      const rows = await client.query<NotificationRow>(
        `UPDATE notifications SET archived_at = GREATEST($2::bigint, created_at), version = version + 1
         WHERE user_id = $1 AND archived_at IS NULL AND id = ANY($3::text[])
         RETURNING ${NOTIFICATION_COLUMNS}`,
        [userId, at, [...ids]],
      )
      const changed = rows.rows.map(toNotification)
      for (const record of changed) await queue(client, record, channels, at)
      return changed
    })
  }

  markRead(userId: string, ids: readonly string[] | 'all', at: number, channels: readonly string[]): Promise<NotificationRecord[]> {
    return this.markForward('read_at', UNREAD, userId, ids, at, channels)
  }

  /** Sets `read_at` or `seen_at` of those not marked since their latest activity, to the later of `at` and `notified_at`. */
  private markForward(
    column: 'read_at' | 'seen_at',
    unmarked: string,
    userId: string,
    ids: readonly string[] | 'all',
    at: number,
    channels: readonly string[],
  ): Promise<NotificationRecord[]> {
    return this.db.transaction(async (client) => {
      const rows = await client.query<NotificationRow>(
        `UPDATE notifications SET ${column} = GREATEST($2::bigint, notified_at), version = version + 1
         WHERE user_id = $1 AND ${unmarked} AND ($3::boolean OR id = ANY($4::text[]))
         RETURNING ${NOTIFICATION_COLUMNS}`,
        [userId, at, ids === 'all', ids === 'all' ? [] : [...ids]],
      )
      const changed = rows.rows.map(toNotification)
      for (const record of changed) await queue(client, record, channels, at)
      return changed
    })
  }

  expire(before: number, limit: number): Promise<{ users: string[]; removed: number }> {
    return this.db.transaction(async (client) => {
      const gone = await client.query<{ user_id: string; id: string }>(
        `WITH old AS (SELECT user_id, id FROM notifications WHERE notified_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
         DELETE FROM notifications n USING old WHERE n.user_id = old.user_id AND n.id = old.id RETURNING n.user_id, n.id`,
        [before, limit],
      )
      if (gone.rows.length > 0) {
        await client.query(
          `DELETE FROM notification_outbox o USING unnest($1::text[], $2::text[]) AS g(user_id, id) WHERE o.user_id = g.user_id AND o.notification_id = g.id`,
          [gone.rows.map((r) => r.user_id), gone.rows.map((r) => r.id)],
        )
      }
      await client.query(`DELETE FROM notification_outbox WHERE status = 'delivered' AND updated_at < $1`, [before])
      return { users: [...new Set(gone.rows.map((r) => r.user_id))], removed: gone.rows.length }
    })
  }

  async setMarks(userId: string, id: string, marks: NotificationMarks): Promise<boolean> {
    let changed = false
    if (typeof marks.seenAt === 'number') {
      const rows = await this.db.query(
        'UPDATE notifications SET seen_at = $3, version = version + 1 WHERE user_id = $1 AND id = $2 AND (seen_at IS NULL OR seen_at < $3) RETURNING id',
        [userId, id, marks.seenAt],
      )
      changed = rows.length > 0
    }
    if (typeof marks.readAt === 'number') {
      const rows = await this.db.query(
        'UPDATE notifications SET read_at = $3, version = version + 1 WHERE user_id = $1 AND id = $2 AND (read_at IS NULL OR read_at < $3) RETURNING id',
        [userId, id, marks.readAt],
      )
      changed = rows.length > 0 || changed
    }
    if (marks.archivedAt !== undefined) {
      const rows = await this.db.query(
        'UPDATE notifications SET archived_at = $3, version = version + 1 WHERE user_id = $1 AND id = $2 AND archived_at IS DISTINCT FROM $3::bigint RETURNING id',
        [userId, id, marks.archivedAt],
      )
      changed = rows.length > 0 || changed
    }
    return changed
  }

  async claimOutbox(channel: string, now: number, leaseMs: number, limit: number): Promise<OutboxRow[]> {
    const rows = await this.db.query<OutboxDbRow>(
      `UPDATE notification_outbox o SET next_attempt_at = $3
       FROM (SELECT user_id, notification_id, channel FROM notification_outbox
             WHERE channel = $1 AND status = 'pending' AND next_attempt_at <= $2
             ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) d
       WHERE o.user_id = d.user_id AND o.notification_id = d.notification_id AND o.channel = d.channel
       RETURNING ${OUTBOX_COLUMNS.split(', ')
         .map((c) => `o.${c}`)
         .join(', ')}`,
      [channel, now, now + leaseMs, limit],
    )
    return rows.map(toOutboxRow)
  }

  async outboxDelivered(rows: readonly OutboxRow[], at: number): Promise<void> {
    if (rows.length === 0) return
    await this.db.query(
      `UPDATE notification_outbox o SET status = 'delivered', delivered_version = o.version, attempts = 0, last_error = NULL, updated_at = $1
       FROM unnest($2::text[], $3::text[], $4::text[], $5::int[]) AS d(user_id, notification_id, channel, version)
       WHERE o.user_id = d.user_id AND o.notification_id = d.notification_id AND o.channel = d.channel AND o.version = d.version`,
      [at, rows.map((r) => r.userId), rows.map((r) => r.notificationId), rows.map((r) => r.channel), rows.map((r) => r.version)],
    )
  }

  async outboxFailed(row: OutboxRow, error: string, retryAt: number): Promise<void> {
    await this.db.query(
      `UPDATE notification_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, updated_at = $3
       WHERE user_id = $4 AND notification_id = $5 AND channel = $6 AND status = 'pending'`,
      [error, retryAt, Date.now(), row.userId, row.notificationId, row.channel],
    )
  }

  requeue(userId: string, notificationId: string, channels: readonly string[], at: number): Promise<boolean> {
    return this.db.transaction(async (client) => {
      const rows = await client.query<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = $1 AND id = $2`, [
        userId,
        notificationId,
      ])
      const row = rows.rows[0]
      if (!row) return false
      await queue(client, toNotification(row), channels, at)
      return true
    })
  }

  async outboxOf(userId: string, notificationId: string): Promise<OutboxRow[]> {
    const rows = await this.db.query<OutboxDbRow>(
      `SELECT ${OUTBOX_COLUMNS} FROM notification_outbox WHERE user_id = $1 AND notification_id = $2 ORDER BY channel`,
      [userId, notificationId],
    )
    return rows.map(toOutboxRow)
  }

  async documentHead(documentName: string): Promise<number> {
    const rows = await this.db.query<{ last_seq: string }>('SELECT last_seq FROM document_heads WHERE name = $1', [documentName])
    return rows[0] ? toNumber(rows[0].last_seq) : 0
  }

  async detectionMark(documentName: string): Promise<number | null> {
    const rows = await this.db.query<{ seq: string }>('SELECT seq FROM notification_marks WHERE document = $1', [documentName])
    return rows[0] ? toNumber(rows[0].seq) : null
  }

  async setDetectionMark(documentName: string, seq: number): Promise<void> {
    await this.db.query(
      `INSERT INTO notification_marks AS m (document, seq, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (document) DO UPDATE SET seq = GREATEST(m.seq, excluded.seq), updated_at = excluded.updated_at`,
      [documentName, seq, Date.now()],
    )
  }

  async documentsToReconcile(): Promise<string[]> {
    const rows = await this.db.query<{ document: string }>(
      // Comments documents written after their mark, or written and never marked (-1: predates notifications).
      `SELECT h.name AS document FROM document_heads h LEFT JOIN notification_marks m ON m.document = h.name
       WHERE h.name LIKE 'comments/%' AND h.last_seq > 0 AND (m.seq IS NULL OR (m.seq >= 0 AND h.last_seq > m.seq))
       ORDER BY h.name COLLATE "C"`,
    )
    return rows.map((row) => row.document)
  }
}
