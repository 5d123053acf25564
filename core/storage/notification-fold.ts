/**
 * How a piece of activity changes a notification, as pure functions every backend shares:
 * a new notification, or one folded into an existing one (the thread's notification while it is
 * unread; a read one starts a new round under the same id, so the inbox reuses its key).
 */
import type { ActivityInput, NotificationRecord, TakeBackInput } from './notification-types.ts'

/** Actors a folded notification keeps (latest first). */
export const MAX_ACTORS = 10

/** Unread: `readAt` null or earlier than `notifiedAt`. */
export function isUnread(record: Pick<NotificationRecord, 'readAt' | 'notifiedAt'>): boolean {
  return record.readAt === null || record.readAt < record.notifiedAt
}

export function newNotification(activity: ActivityInput): NotificationRecord {
  return {
    userId: activity.key.recipient,
    id: activity.notificationId,
    kind: activity.kind,
    priority: activity.priority,
    subjectId: activity.key.subjectId,
    threadId: activity.threadId,
    commentId: activity.commentId,
    actors: [activity.actor],
    activityCount: 1,
    preview: activity.preview,
    createdAt: activity.at,
    notifiedAt: activity.at,
    readAt: null,
    seenAt: null,
    archivedAt: null,
    version: 1,
  }
}

/** The notification after `activity` folds into it; null when it does not fold (never-folded kinds). */
export function foldInto(existing: NotificationRecord, activity: ActivityInput): NotificationRecord | null {
  if (!activity.fold) return null
  // notifiedAt never goes back, and a new round must be unread even when clocks disagree.
  const floor = Math.max(existing.notifiedAt, existing.readAt === null ? 0 : existing.readAt + 1, existing.seenAt === null ? 0 : existing.seenAt + 1)
  const notifiedAt = Math.max(activity.at, floor)
  const round = isUnread(existing)
  const actors = round ? [activity.actor, ...existing.actors.filter((a) => a !== activity.actor)].slice(0, MAX_ACTORS) : [activity.actor]
  return {
    ...existing,
    commentId: activity.commentId,
    actors,
    activityCount: round ? existing.activityCount + 1 : 1,
    preview: activity.preview,
    notifiedAt,
    archivedAt: round ? existing.archivedAt : null,
    version: existing.version + 1,
  }
}

/**
 * The idempotency key's `commentId` of a comment event's activity (a reaction, a moderation action):
 * one per (comment, event). A `/`
 * separates them: comment ids never hold one (protocol/names.ts), and PostgreSQL text no NUL.
 */
export function commentEventId(commentId: string, event: string): string {
  return `${commentId}/${event}`
}

/**
 * Whether a removed reaction recorded at `recordedAt` is taken back out of `existing`: only while
 * the notification is unread and the reaction belongs to its current round (recorded after the
 * last read).
 */
export function mayTakeBack(existing: NotificationRecord, recordedAt: number): boolean {
  return isUnread(existing) && (existing.readAt === null || recordedAt > existing.readAt)
}

/** The notification without the taken-back reaction; null when it was its only activity (the notification goes). */
export function unfold(existing: NotificationRecord, takeBack: TakeBackInput): NotificationRecord | null {
  if (existing.activityCount <= 1) return null
  return {
    ...existing,
    actors: takeBack.actorStays ? existing.actors : existing.actors.filter((a) => a !== takeBack.actor),
    activityCount: existing.activityCount - 1,
    version: existing.version + 1,
  }
}
