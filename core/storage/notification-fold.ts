/**
 * How a piece of activity changes a notification, as pure functions every backend shares:
 * a new notification, or one folded into an existing one (the thread's notification while it is
 * unread; a read one starts a new round under the same id, so the inbox reuses its key).
 */
import type { ActivityInput, NotificationRecord } from './notification-types.ts'

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
    commentId: activity.key.commentId,
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
    commentId: activity.key.commentId,
    actors,
    activityCount: round ? existing.activityCount + 1 : 1,
    preview: activity.preview,
    notifiedAt,
    archivedAt: round ? existing.archivedAt : null,
    version: existing.version + 1,
  }
}
