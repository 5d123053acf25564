/** Notifications, handled mentions and comments, the outbox and detection marks in SQLite. */
import { GroupCommit } from './group-commit.ts'
import type Database from 'better-sqlite3'
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
import { SqliteCommentEvents } from './comment-events.ts'
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

const UNREAD = '(read_at IS NULL OR read_at < notified_at)'
const UNSEEN = '(seen_at IS NULL OR seen_at < notified_at)'

export class SqliteNotificationStore implements NotificationStore {
  private readonly db: Database.Database
  private readonly s
  private readonly events: SqliteCommentEvents

  /** This turn's group commit: a head read writes the appends still waiting first. */
  private readonly group: GroupCommit
  /** The group records join (the derived writes' group, which yields to the appends'). */
  private readonly records: GroupCommit
  /** One batch's records as a transaction (made once: better-sqlite3 builds a transaction's wrappers on every `db.transaction`). */
  private readonly recordTx: Database.Transaction<(batch: RecordBatch) => RecordResult>

  constructor(db: Database.Database, group: GroupCommit = new GroupCommit(db), records: GroupCommit = group) {
    this.group = group
    this.records = records
    this.db = db
    this.recordTx = db.transaction((batch: RecordBatch) => this.recordBatch(batch))
    this.events = new SqliteCommentEvents(db)
    const placeholders = NOTIFICATION_COLUMNS.split(',')
      .map(() => '?')
      .join(', ')
    this.s = {
      handledMentions: db.prepare<[string], { comment_id: string; user_id: string }>('SELECT comment_id, user_id FROM mentions_handled WHERE subject_id = ?'),
      handledComments: db.prepare<[string], { comment_id: string }>('SELECT comment_id FROM comments_handled WHERE subject_id = ?'),
      insertMention: db.prepare<[string, string, string, string, number]>(
        'INSERT INTO mentions_handled (subject_id, comment_id, user_id, outcome, handled_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      insertComment: db.prepare<[string, string, number]>(
        'INSERT INTO comments_handled (subject_id, comment_id, handled_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      insertKey: db.prepare<[string, string, string, string, string, number]>(
        'INSERT INTO notification_keys (kind, subject_id, comment_id, recipient, notification_id, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      get: db.prepare<[string, string], NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = ? AND id = ?`),
      upsert: db.prepare(`INSERT OR REPLACE INTO notifications (${NOTIFICATION_COLUMNS}) VALUES (${placeholders})`),
      queue: db.prepare<[string, string, string, number, number, number]>(
        `INSERT INTO notification_outbox (user_id, notification_id, channel, version, status, attempts, next_attempt_at, updated_at)
         VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)
         ON CONFLICT (user_id, notification_id, channel) DO UPDATE SET version = excluded.version, status = 'pending', attempts = 0,
           next_attempt_at = excluded.next_attempt_at, last_error = NULL, updated_at = excluded.updated_at`,
      ),
      list: db.prepare<[{ user: string; unread: number; archived: number | null; at: number | null; id: string; limit: number }], NotificationRow>(
        `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = @user AND (@unread = 0 OR ${UNREAD})
           AND (@archived IS NULL OR (archived_at IS NOT NULL) = (@archived = 1))
           AND (@at IS NULL OR notified_at < @at OR (notified_at = @at AND id > @id))
         ORDER BY notified_at DESC, id LIMIT @limit`,
      ),
      unread: db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS n FROM notifications WHERE user_id = ? AND ${UNREAD} AND archived_at IS NULL`),
      unseen: db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS n FROM notifications WHERE user_id = ? AND ${UNSEEN} AND archived_at IS NULL`),
      unseenAll: db.prepare<[string], NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = ? AND ${UNSEEN}`),
      setSeen: db.prepare<[number, string, string]>('UPDATE notifications SET seen_at = ?, version = version + 1 WHERE user_id = ? AND id = ?'),
      setSeenForward: db.prepare<[number, string, string, number]>(
        'UPDATE notifications SET seen_at = ?, version = version + 1 WHERE user_id = ? AND id = ? AND (seen_at IS NULL OR seen_at < ?)',
      ),
      oldest: db.prepare<[number, number], { user_id: string; id: string }>('SELECT user_id, id FROM notifications WHERE notified_at < ? LIMIT ?'),
      deleteNotification: db.prepare<[string, string]>('DELETE FROM notifications WHERE user_id = ? AND id = ?'),
      deleteOutboxOf: db.prepare<[string, string]>('DELETE FROM notification_outbox WHERE user_id = ? AND notification_id = ?'),
      forgetDelivered: db.prepare<[number]>("DELETE FROM notification_outbox WHERE status = 'delivered' AND updated_at < ?"),
      unreadAll: db.prepare<[string], NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = ? AND ${UNREAD}`),
      setRead: db.prepare<[number, string, string]>('UPDATE notifications SET read_at = ?, version = version + 1 WHERE user_id = ? AND id = ?'),
      setReadForward: db.prepare<[number, string, string, number]>(
        'UPDATE notifications SET read_at = ?, version = version + 1 WHERE user_id = ? AND id = ? AND (read_at IS NULL OR read_at < ?)',
      ),
      setArchived: db.prepare<[number | null, string, string, number | null]>(
        'UPDATE notifications SET archived_at = ?, version = version + 1 WHERE user_id = ? AND id = ? AND archived_at IS NOT ?',
      ),
      due: db.prepare<[string, number, number], OutboxDbRow>(
        `SELECT ${OUTBOX_COLUMNS} FROM notification_outbox WHERE channel = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`,
      ),
      lease: db.prepare<[number, string, string, string]>(
        'UPDATE notification_outbox SET next_attempt_at = ? WHERE user_id = ? AND notification_id = ? AND channel = ?',
      ),
      delivered: db.prepare<[number, string, string, string, number]>(
        `UPDATE notification_outbox SET status = 'delivered', delivered_version = version, attempts = 0, last_error = NULL, updated_at = ?
         WHERE user_id = ? AND notification_id = ? AND channel = ? AND version = ?`,
      ),
      failed: db.prepare<[string, number, number, string, string, string]>(
        `UPDATE notification_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?
         WHERE user_id = ? AND notification_id = ? AND channel = ? AND status = 'pending'`,
      ),
      outboxOf: db.prepare<[string, string], OutboxDbRow>(
        `SELECT ${OUTBOX_COLUMNS} FROM notification_outbox WHERE user_id = ? AND notification_id = ? ORDER BY channel`,
      ),
      head: db.prepare<[string, string], { head: number }>(
        `SELECT COALESCE((SELECT MAX(seq) FROM document_log WHERE name = ?), (SELECT upto_seq FROM document_snapshots WHERE name = ?), 0) AS head`,
      ),
      mark: db.prepare<[string], { seq: number }>('SELECT seq FROM notification_marks WHERE document = ?'),
      setMark: db.prepare<[string, number, number]>(
        'INSERT INTO notification_marks (document, seq, updated_at) VALUES (?, ?, ?) ON CONFLICT (document) DO UPDATE SET seq = MAX(seq, excluded.seq), updated_at = excluded.updated_at',
      ),
      // Comments documents written after their mark, or written and never marked (-1: predates notifications).
      dirty: db.prepare<[], { document: string }>(
        `WITH heads (name, head) AS (
           SELECT name, MAX(seq) FROM document_log WHERE name >= 'comments/' AND name < 'comments0' GROUP BY name
           UNION ALL
           SELECT name, upto_seq FROM document_snapshots WHERE name >= 'comments/' AND name < 'comments0'
         ), latest (name, head) AS (SELECT name, MAX(head) FROM heads GROUP BY name)
         SELECT l.name AS document FROM latest l LEFT JOIN notification_marks m ON m.document = l.name
         WHERE l.head > 0 AND (m.seq IS NULL OR (m.seq >= 0 AND l.head > m.seq))
         ORDER BY l.name`,
      ),
    }
  }

  async handled(subjectId: string): Promise<HandledSets> {
    const mentions = new Map<string, Set<string>>()
    for (const row of this.s.handledMentions.all(subjectId)) {
      const users = mentions.get(row.comment_id) ?? new Set<string>()
      users.add(row.user_id)
      mentions.set(row.comment_id, users)
    }
    return {
      mentions,
      comments: new Set(this.s.handledComments.all(subjectId).map((row) => row.comment_id)),
      events: this.events.handled(subjectId),
    }
  }

  private apply(activity: ActivityInput, channels: readonly string[], now: number): { record: NotificationRecord; created: boolean } | null {
    const { kind, subjectId, commentId, recipient } = activity.key
    if (this.s.insertKey.run(kind, subjectId, commentId, recipient, activity.notificationId, now).changes === 0) return null
    const row = this.s.get.get(recipient, activity.notificationId)
    const existing = row ? toNotification(row) : null
    const record = existing ? foldInto(existing, activity) : newNotification(activity)
    if (!record) return null
    this.s.upsert.run(...notificationValues(record))
    this.queue(record, channels, now)
    return { record, created: existing === null }
  }

  private queue(record: NotificationRecord, channels: readonly string[], now: number): void {
    for (const channel of channels) this.s.queue.run(record.userId, record.id, channel, record.version, now, now)
  }

  async record(batch: RecordBatch): Promise<RecordResult> {
    // A savepoint inside the turn's group transaction: several documents' records commit together.
    return this.records.run(() => this.recordTx.immediate(batch))
  }

  private recordBatch(batch: RecordBatch): RecordResult {
    const now = Date.now()
    const result: RecordResult = { mentions: [], notifications: [], removed: [] }
    for (const mention of batch.mentions) {
      if (this.s.insertMention.run(mention.subjectId, mention.commentId, mention.userId, mention.outcome, now).changes === 0) continue
      result.mentions.push(mention)
      const applied = mention.activity ? this.apply(mention.activity, batch.channels, now) : null
      if (applied) result.notifications.push(applied)
    }
    for (const comment of batch.comments) {
      if (this.s.insertComment.run(comment.subjectId, comment.commentId, now).changes === 0) continue
      ;(result.comments ??= []).push(comment.commentId)
      for (const activity of comment.activities) {
        const applied = this.apply(activity, batch.channels, now)
        if (applied) result.notifications.push(applied)
      }
    }
    for (const event of batch.events ?? []) {
      if (!this.events.markHandled(event, now)) continue
      for (const activity of event.activities) {
        const applied = this.apply(activity, batch.channels, now)
        if (applied) result.notifications.push(applied)
      }
    }
    for (const takeBack of batch.takeBacks ?? []) {
      const outcome = this.events.takeBack(takeBack)
      if (outcome && 'removed' in outcome) result.removed.push(outcome.removed)
      if (outcome && 'changed' in outcome) {
        this.queue(outcome.changed, batch.channels, now)
        result.notifications.push({ record: outcome.changed, created: false })
      }
    }
    return result
  }

  async get(userId: string, id: string): Promise<NotificationRecord | null> {
    const row = this.s.get.get(userId, id)
    return row ? toNotification(row) : null
  }

  async list(userId: string, query: ListQuery): Promise<NotificationRecord[]> {
    const rows = this.s.list.all({
      user: userId,
      unread: query.unreadOnly ? 1 : 0,
      archived: query.archived === undefined ? null : query.archived ? 1 : 0,
      at: query.after?.notifiedAt ?? null,
      id: query.after?.id ?? '',
      limit: query.limit,
    })
    return rows.map(toNotification)
  }

  async unreadCount(userId: string): Promise<number> {
    return this.s.unread.get(userId)?.n ?? 0
  }

  async unseenCount(userId: string): Promise<number> {
    return this.s.unseen.get(userId)?.n ?? 0
  }

  async markSeen(userId: string, ids: readonly string[] | 'all', at: number, channels: readonly string[]): Promise<NotificationRecord[]> {
    return this.markForward('seenAt', userId, ids, at, channels)
  }

  async archive(userId: string, ids: readonly string[], at: number, channels: readonly string[]): Promise<NotificationRecord[]> {
    const run = this.db.transaction((): NotificationRecord[] => {
      const changed: NotificationRecord[] = []
      for (const candidate of ids.flatMap((id) => this.s.get.all(userId, id)).map(toNotification)) {
        if (candidate.archivedAt !== null) continue
        const archivedAt = Math.max(at, candidate.createdAt)
        this.s.setArchived.run(archivedAt, userId, candidate.id, archivedAt)
        const record = { ...candidate, archivedAt, version: candidate.version + 1 }
        this.queue(record, channels, at)
        changed.push(record)
      }
      return changed
    })
    return run.immediate()
  }

  async markRead(userId: string, ids: readonly string[] | 'all', at: number, channels: readonly string[]): Promise<NotificationRecord[]> {
    return this.markForward('readAt', userId, ids, at, channels)
  }

  /** Sets `readAt` or `seenAt` of those not marked since their latest activity, to the later of `at` and `notifiedAt`. */
  private markForward(
    field: 'readAt' | 'seenAt',
    userId: string,
    ids: readonly string[] | 'all',
    at: number,
    channels: readonly string[],
  ): Promise<NotificationRecord[]> {
    const { all, set } = field === 'readAt' ? { all: this.s.unreadAll, set: this.s.setRead } : { all: this.s.unseenAll, set: this.s.setSeen }
    const run = this.db.transaction((): NotificationRecord[] => {
      const candidates = ids === 'all' ? all.all(userId) : ids.flatMap((id) => this.s.get.all(userId, id))
      const changed: NotificationRecord[] = []
      for (const candidate of candidates.map(toNotification)) {
        const marked = candidate[field]
        if (marked !== null && marked >= candidate.notifiedAt) continue
        const value = Math.max(at, candidate.notifiedAt)
        set.run(value, userId, candidate.id)
        const record = { ...candidate, [field]: value, version: candidate.version + 1 }
        this.queue(record, channels, at)
        changed.push(record)
      }
      return changed
    })
    return Promise.resolve(run.immediate())
  }

  async expire(before: number, limit: number): Promise<{ users: string[]; removed: number }> {
    const run = this.db.transaction(() => {
      const rows = this.s.oldest.all(before, limit)
      for (const row of rows) {
        this.s.deleteNotification.run(row.user_id, row.id)
        this.s.deleteOutboxOf.run(row.user_id, row.id)
      }
      this.s.forgetDelivered.run(before)
      return { users: [...new Set(rows.map((row) => row.user_id))], removed: rows.length }
    })
    return run.immediate()
  }

  async setMarks(userId: string, id: string, marks: NotificationMarks): Promise<boolean> {
    let changed = false
    if (typeof marks.readAt === 'number') changed = this.s.setReadForward.run(marks.readAt, userId, id, marks.readAt).changes > 0
    if (typeof marks.seenAt === 'number') changed = this.s.setSeenForward.run(marks.seenAt, userId, id, marks.seenAt).changes > 0 || changed
    if (marks.archivedAt !== undefined) changed = this.s.setArchived.run(marks.archivedAt, userId, id, marks.archivedAt).changes > 0 || changed
    return changed
  }

  async claimOutbox(channel: string, now: number, leaseMs: number, limit: number): Promise<OutboxRow[]> {
    const run = this.db.transaction((): OutboxRow[] => {
      const rows = this.s.due.all(channel, now, limit).map(toOutboxRow)
      for (const row of rows) this.s.lease.run(now + leaseMs, row.userId, row.notificationId, row.channel)
      return rows
    })
    return run.immediate()
  }

  async outboxDelivered(rows: readonly OutboxRow[], at: number): Promise<void> {
    this.db.transaction(() => {
      for (const row of rows) this.s.delivered.run(at, row.userId, row.notificationId, row.channel, row.version)
    })()
  }

  async outboxFailed(row: OutboxRow, error: string, retryAt: number): Promise<void> {
    this.s.failed.run(error, retryAt, Date.now(), row.userId, row.notificationId, row.channel)
  }

  async requeue(userId: string, notificationId: string, channels: readonly string[], at: number): Promise<boolean> {
    const row = this.s.get.get(userId, notificationId)
    if (!row) return false
    this.queue(toNotification(row), channels, at)
    return true
  }

  async outboxOf(userId: string, notificationId: string): Promise<OutboxRow[]> {
    return this.s.outboxOf.all(userId, notificationId).map(toOutboxRow)
  }

  async documentHead(documentName: string): Promise<number> {
    this.group.flush()
    return this.s.head.get(documentName, documentName)?.head ?? 0
  }

  async detectionMark(documentName: string): Promise<number | null> {
    return this.s.mark.get(documentName)?.seq ?? null
  }

  async setDetectionMark(documentName: string, seq: number): Promise<void> {
    this.s.setMark.run(documentName, seq, Date.now())
  }

  async documentsToReconcile(): Promise<string[]> {
    return this.s.dirty.all().map((row) => row.document)
  }
}
