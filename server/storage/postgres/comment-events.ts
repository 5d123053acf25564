/**
 * Reaction activity in PostgreSQL, run inside the notification store's transactions: which
 * reactions are handled, and taking a removed reaction back out of its notification while that is
 * unread (the notification is locked while it changes).
 */
import type { PoolClient } from 'pg'
import { mayTakeBack, commentEventId, unfold } from '../../../core/storage/notification-fold.ts'
import type { NotificationRecord, CommentEventRef, TakeBackInput } from '../../../core/storage/notification-types.ts'
import { NOTIFICATION_COLUMNS, notificationValues, toNotification, type NotificationRow } from '../notification-rows.ts'
import { toNumber, type PostgresPool } from './pool.ts'

/** What a take-back did: the notification changed, or removed (it held only that reaction). */
export type TakeBackOutcome = { changed: NotificationRecord } | { removed: { userId: string; id: string } } | null

const PLACEHOLDERS = NOTIFICATION_COLUMNS.split(',')
  .map((_, i) => `$${i + 1}`)
  .join(', ')
const UPDATE_NOTIFICATION = `UPDATE notifications SET (${NOTIFICATION_COLUMNS}) = (${PLACEHOLDERS}) WHERE user_id = $1 AND id = $2`

/** Handled reactions of a subject, as `commentEventId`. */
export async function handledCommentEvents(db: PostgresPool, subjectId: string): Promise<Set<string>> {
  const rows = await db.query<{ comment_id: string; event: string }>('SELECT comment_id, event FROM comment_events_handled WHERE subject_id = $1', [subjectId])
  return new Set(rows.map((row) => commentEventId(row.comment_id, row.event)))
}

/** Marks a reaction handled; false when it already was. */
export async function markCommentEventHandled(client: PoolClient, ref: CommentEventRef, now: number): Promise<boolean> {
  const inserted = await client.query(
    'INSERT INTO comment_events_handled (subject_id, comment_id, event, handled_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING comment_id',
    [ref.subjectId, ref.commentId, ref.event, now],
  )
  return (inserted.rowCount ?? 0) > 0
}

/** Takes a removed reaction back out of its notification, when it notified and the notification is unread in that round. */
export async function takeBackReaction(client: PoolClient, input: TakeBackInput): Promise<TakeBackOutcome> {
  const activityId = commentEventId(input.commentId, input.event)
  const rows = await client.query<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = $1 AND id = $2 FOR UPDATE`, [
    input.userId,
    input.notificationId,
  ])
  const key = await client.query<{ created_at: string | number }>(
    'SELECT created_at FROM notification_keys WHERE kind = $1 AND subject_id = $2 AND comment_id = $3 AND recipient = $4',
    [input.kind, input.subjectId, activityId, input.userId],
  )
  const existing = rows.rows[0] ? toNotification(rows.rows[0]) : null
  const recordedAt = key.rows[0] ? toNumber(key.rows[0].created_at) : null
  if (recordedAt === null || !existing || !mayTakeBack(existing, recordedAt)) return null
  // Forgotten: adding the reaction again counts again.
  await client.query('DELETE FROM comment_events_handled WHERE subject_id = $1 AND comment_id = $2 AND event = $3', [
    input.subjectId,
    input.commentId,
    input.event,
  ])
  await client.query('DELETE FROM notification_keys WHERE kind = $1 AND subject_id = $2 AND comment_id = $3 AND recipient = $4', [
    input.kind,
    input.subjectId,
    activityId,
    input.userId,
  ])
  const changed = unfold(existing, input)
  if (changed) {
    await client.query(UPDATE_NOTIFICATION, notificationValues(changed))
    return { changed }
  }
  await client.query('DELETE FROM notifications WHERE user_id = $1 AND id = $2', [input.userId, input.notificationId])
  await client.query('DELETE FROM notification_outbox WHERE user_id = $1 AND notification_id = $2', [input.userId, input.notificationId])
  return { removed: { userId: input.userId, id: input.notificationId } }
}
