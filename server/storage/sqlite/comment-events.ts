/**
 * Reaction activity in SQLite, run inside the notification store's transactions: which reactions
 * are handled, and taking a removed reaction back out of its notification while that is unread.
 */
import type Database from 'better-sqlite3'
import { mayTakeBack, commentEventId, unfold } from '../../../core/storage/notification-fold.ts'
import type { NotificationRecord, CommentEventRef, TakeBackInput } from '../../../core/storage/notification-types.ts'
import { NOTIFICATION_COLUMNS, notificationValues, toNotification, type NotificationRow } from '../notification-rows.ts'

/** What a take-back did: the notification changed, or removed (it held only that reaction). */
export type TakeBackOutcome = { changed: NotificationRecord } | { removed: { userId: string; id: string } } | null

export class SqliteCommentEvents {
  private readonly s

  constructor(db: Database.Database) {
    const placeholders = NOTIFICATION_COLUMNS.split(',')
      .map(() => '?')
      .join(', ')
    this.s = {
      handled: db.prepare<[string], { comment_id: string; event: string }>('SELECT comment_id, event FROM comment_events_handled WHERE subject_id = ?'),
      insert: db.prepare<[string, string, string, number]>(
        'INSERT INTO comment_events_handled (subject_id, comment_id, event, handled_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      forget: db.prepare<[string, string, string]>('DELETE FROM comment_events_handled WHERE subject_id = ? AND comment_id = ? AND event = ?'),
      key: db.prepare<[string, string, string, string], { created_at: number }>(
        'SELECT created_at FROM notification_keys WHERE kind = ? AND subject_id = ? AND comment_id = ? AND recipient = ?',
      ),
      forgetKey: db.prepare<[string, string, string, string]>(
        'DELETE FROM notification_keys WHERE kind = ? AND subject_id = ? AND comment_id = ? AND recipient = ?',
      ),
      get: db.prepare<[string, string], NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = ? AND id = ?`),
      update: db.prepare(`INSERT OR REPLACE INTO notifications (${NOTIFICATION_COLUMNS}) VALUES (${placeholders})`),
      remove: db.prepare<[string, string]>('DELETE FROM notifications WHERE user_id = ? AND id = ?'),
      removeOutbox: db.prepare<[string, string]>('DELETE FROM notification_outbox WHERE user_id = ? AND notification_id = ?'),
    }
  }

  /** Handled reactions of a subject, as `commentEventId`. */
  handled(subjectId: string): Set<string> {
    return new Set(this.s.handled.all(subjectId).map((row) => commentEventId(row.comment_id, row.event)))
  }

  /** Marks a reaction handled; false when it already was. */
  markHandled(ref: CommentEventRef, now: number): boolean {
    return this.s.insert.run(ref.subjectId, ref.commentId, ref.event, now).changes > 0
  }

  /** Takes a removed reaction back out of its notification, when it notified and the notification is unread in that round. */
  takeBack(input: TakeBackInput): TakeBackOutcome {
    const activityId = commentEventId(input.commentId, input.event)
    const key = this.s.key.get(input.kind, input.subjectId, activityId, input.userId)
    const row = this.s.get.get(input.userId, input.notificationId)
    const existing = row ? toNotification(row) : null
    if (!key || !existing || !mayTakeBack(existing, key.created_at)) return null
    // Forgotten: adding the reaction again counts again.
    this.s.forget.run(input.subjectId, input.commentId, input.event)
    this.s.forgetKey.run(input.kind, input.subjectId, activityId, input.userId)
    const changed = unfold(existing, input)
    if (changed) {
      this.s.update.run(...notificationValues(changed))
      return { changed }
    }
    this.s.remove.run(input.userId, input.notificationId)
    this.s.removeOutbox.run(input.userId, input.notificationId)
    return { removed: { userId: input.userId, id: input.notificationId } }
  }
}
