/**
 * The notification part of the storage interface: notifications (the source of truth the inbox
 * documents project), the mentions and comments already handled (so that each is notified
 * exactly once), the per-channel outbox, and detection marks (which documents may hold writes
 * whose mentions were never detected, after a crash).
 */
import type { InboxNotification } from '../../protocol/inbox.ts'

export type NotificationPriority = 'urgent' | 'high' | 'normal' | 'low'

/** One notification of one user, as stored: the inbox document's fields (protocol/inbox.ts) and more. */
export interface NotificationRecord extends Omit<InboxNotification, 'priority'> {
  userId: string
  priority: NotificationPriority
  /** Grows with every change storage makes; outbox rows deliver a version. */
  version: number
}

/**
 * Why a detected mention was handled the way it was; `capped`: the author had used up their
 * mention notifications for the minute (core/notifications/mention-limits.ts), so none was sent;
 * `silenced`: the recipient's preferences turn mentions off in-app.
 */
export type MentionOutcome = 'notified' | 'self' | 'no_access' | 'baseline' | 'capped' | 'silenced'

/**
 * The detection mark of a comments document written before notifications existed (set by a
 * migration): its mentions are recorded as seen, not notified, when it next loads.
 */
export const MARK_PREDATES_NOTIFICATIONS = -1

/** The idempotency key of one piece of activity: at most one per (kind, subject, comment, recipient). */
export interface ActivityKey {
  kind: string
  subjectId: string
  commentId: string
  recipient: string
}

/** One piece of activity for one recipient: a new notification, or folded into an existing one. */
export interface ActivityInput {
  /** The idempotency key; for a comment event (a reaction, a moderation action) its `commentId` is `commentEventId` (notification-fold.ts), not the comment's id. */
  key: ActivityKey
  /** The comment the notification points at. */
  commentId: string
  /** The notification it creates or folds into. */
  notificationId: string
  /** Fold into `notificationId` (while unread; a read one starts a new round). False: never folded. */
  fold: boolean
  kind: string
  priority: NotificationPriority
  threadId: string | null
  actor: string
  preview: string
  at: number
}

export interface MentionInput {
  subjectId: string
  commentId: string
  userId: string
  outcome: MentionOutcome
  /** The notification, when the mention notifies. */
  activity?: ActivityInput | undefined
}

/**
 * Something that happened to a comment after it was created, handled once: a reaction (`event` is
 * its key, `emoji|userId`) or a moderation action (`hide@<at>`, `delete`).
 */
export interface CommentEventRef {
  subjectId: string
  commentId: string
  event: string
}

/** A removed reaction whose activity was recorded: taken back out of its notification while that is unread. */
export interface TakeBackInput extends CommentEventRef {
  /** The comment's author (the recipient) and the notification the reaction folded into. */
  userId: string
  notificationId: string
  kind: string
  /** The reactor. */
  actor: string
  /** The reactor still has another reaction on the comment: they stay among the actors. */
  actorStays: boolean
}

/** Everything one detection step records, atomically. */
export interface RecordBatch {
  /** Marked handled; a mention already handled is skipped with its activity. */
  mentions: readonly MentionInput[]
  /** Comments whose activity (replies) is handled; their activities follow. */
  comments: ReadonlyArray<{ subjectId: string; commentId: string; activities: readonly ActivityInput[] }>
  /** Comment events (reactions, moderation actions) whose activity is handled (one handled before is skipped with its activities). */
  events?: ReadonlyArray<CommentEventRef & { activities: readonly ActivityInput[] }> | undefined
  /** Removed reactions to take back (nothing happens for one never handled, or once its notification was read). */
  takeBacks?: readonly TakeBackInput[] | undefined
  /** Outbox channels every created or changed notification is queued on. */
  channels: readonly string[]
}

export interface RecordResult {
  /** Mentions newly handled (not those handled before). */
  mentions: MentionInput[]
  /** Notifications created or changed, with whether they are new. */
  notifications: Array<{ record: NotificationRecord; created: boolean }>
  /** Notifications a take-back emptied: gone from storage, their inbox documents need a new projection. */
  removed: Array<{ userId: string; id: string }>
  /** Comments newly handled by this call (not those handled before); absent when none. */
  comments?: string[]
}

export interface HandledSets {
  /** commentId → user ids whose mention in it is handled. */
  mentions: Map<string, Set<string>>
  /** Comments whose activity is handled. */
  comments: Set<string>
  /** Comment events (reactions, moderation actions) whose activity is handled, as `commentEventId` (notification-fold.ts). */
  events: Set<string>
}

/** One channel's delivery of one notification. */
export interface OutboxRow {
  userId: string
  notificationId: string
  channel: string
  /** The notification version to deliver. */
  version: number
  attempts: number
  status: 'pending' | 'delivered'
  deliveredVersion: number | null
  lastError: string | null
  nextAttemptAt: number
}

/** The marks an owner sets: `readAt` and `seenAt` only move forward. */
export interface NotificationMarks {
  readAt?: number | null
  seenAt?: number | null
  archivedAt?: number | null
}

export interface ListQuery {
  unreadOnly: boolean
  /** Archived ones only (true), not archived ones only (false), or both (left out). */
  archived?: boolean | undefined
  limit: number
  /** Continue after this notification (by `notifiedAt` descending, then id). */
  after: { notifiedAt: number; id: string } | null
}

export interface NotificationStore {
  /** What is already handled in one subject. */
  handled(subjectId: string): Promise<HandledSets>
  /** Records mentions and comments handled with their notifications and outbox rows, in one transaction. */
  record(batch: RecordBatch): Promise<RecordResult>
  get(userId: string, id: string): Promise<NotificationRecord | null>
  /** Newest first (`notifiedAt`, then id). */
  list(userId: string, query: ListQuery): Promise<NotificationRecord[]>
  /** Unread (`readAt` null or earlier than `notifiedAt`) and not archived. */
  unreadCount(userId: string): Promise<number>
  /** Unseen (`seenAt` null or earlier than `notifiedAt`) and not archived. */
  unseenCount(userId: string): Promise<number>
  /** Sets `seenAt` of unseen notifications (some ids, or all) to the later of `at` and `notifiedAt`, and queues them on `channels`; resolves with the changed ones. */
  markSeen(userId: string, ids: readonly string[] | 'all', at: number, channels: readonly string[]): Promise<NotificationRecord[]>
  /** Sets `archivedAt` of notifications not archived yet and queues them on `channels`; resolves with the changed ones. */
  archive(userId: string, ids: readonly string[], at: number, channels: readonly string[]): Promise<NotificationRecord[]>
  /** Sets `readAt` of unread notifications (some ids, or all) and queues them on `channels`; resolves with the changed ones. */
  markRead(userId: string, ids: readonly string[] | 'all', at: number, channels: readonly string[]): Promise<NotificationRecord[]>
  /** The owner's own marks from the inbox document (`readAt` and `seenAt` only move forward); true when something changed. */
  setMarks(userId: string, id: string, marks: NotificationMarks): Promise<boolean>
  /**
   * Removes up to `limit` notifications whose latest activity is before `before`, with their
   * outbox rows, and the outbox rows finished before then; idempotency keys and handled marks
   * stay, so nothing expired is recorded again. Resolves with the users concerned and the count.
   */
  expire(before: number, limit: number): Promise<{ users: string[]; removed: number }>
  /** Claims due pending rows of a channel for `leaseMs` (another claim skips them meanwhile). */
  claimOutbox(channel: string, now: number, leaseMs: number, limit: number): Promise<OutboxRow[]>
  /** Records delivery of the claimed versions; a row whose version moved on stays pending. */
  outboxDelivered(rows: readonly OutboxRow[], at: number): Promise<void>
  /** Records a failed attempt; the row is due again at `retryAt`. */
  outboxFailed(row: OutboxRow, error: string, retryAt: number): Promise<void>
  /** Queues a notification again on `channels` at its current version (a retry asked for by the backend); false when it is gone. */
  requeue(userId: string, notificationId: string, channels: readonly string[], at: number): Promise<boolean>
  /** A notification's outbox rows (every channel). */
  outboxOf(userId: string, notificationId: string): Promise<OutboxRow[]>
  /** The last log seq a document has had (0 when never written). */
  documentHead(documentName: string): Promise<number>
  /**
   * The seq up to which the document's mentions were reconciled; {@link MARK_PREDATES_NOTIFICATIONS}
   * for a document written before notifications; null when it never was (never written, or written
   * and not yet unloaded).
   */
  detectionMark(documentName: string): Promise<number | null>
  /** Moves the mark forward (never back); creates it when there is none. */
  setDetectionMark(documentName: string, seq: number): Promise<void>
  /**
   * Comments documents that may hold writes whose mentions were never detected (a crash): written
   * after their mark, or written and never marked; not those that predate notifications.
   */
  documentsToReconcile(): Promise<string[]>
}
