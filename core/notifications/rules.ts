/**
 * Who hears what (contract additions, "Notification kinds and who hears them"). `mention`: the
 * mentioned user, at once, never folded. `reply`: the thread's participants (its creator and
 * comment authors) and subscribers, folded per thread until read. `thread`: the subject's hosts
 * and followers when a thread starts, folded per subject. `comment`: the subject's hosts, for
 * comments in threads they are not in (neither participant nor subscriber), folded per subject.
 * `reaction`: the comment's author, folded per comment until read (core/notifications/reactions.ts).
 * `moderation`: the author of a comment a moderator hid or deleted, folded per comment
 * (core/notifications/moderation.ts).
 * Never the actor, never those who muted the thread, never those mentioned in the comment (they
 * hear the mention). Nobody hears about a deleted comment, nobody who may not read the subject
 * (the detector asks the access resolver), and nobody whose preferences refuse it in-app (the
 * detector asks core/notifications/preferences.ts).
 */
import type { NotificationPriority } from '../storage/types.ts'
import { commentNotificationId, replyNotificationId, threadNotificationId } from './ids.ts'

/** The outbox channels every notification goes to today (push, email come with preferences). */
export const CHANNELS: readonly string[] = ['inbox']

export const MENTION_KIND = 'mention'
export const REPLY_KIND = 'reply'
export const THREAD_KIND = 'thread'
export const COMMENT_KIND = 'comment'
export const REACTION_KIND = 'reaction'
export const MODERATION_KIND = 'moderation'

/** Priority of a mention: someone asked for this user. */
export const MENTION_PRIORITY: NotificationPriority = 'high'

/** Priority of thread activity. */
export const REPLY_PRIORITY: NotificationPriority = 'normal'

/** Priority of a new thread on a subject one hosts or follows. */
export const THREAD_PRIORITY: NotificationPriority = 'normal'

/** Priority of a comment in a thread a host is not in. */
export const COMMENT_PRIORITY: NotificationPriority = 'low'

/** Priority of a reaction to one's comment. */
export const REACTION_PRIORITY: NotificationPriority = 'low'

/** Priority of a moderator hiding or deleting one's comment. */
export const MODERATION_PRIORITY: NotificationPriority = 'high'

/**
 * A reaction or hide found unhandled when a document is rescanned notifies only when it is younger
 * than this (a crash interrupted its detection); older ones are recorded without notifying (they
 * predate these notifications, or the server was down for longer).
 */
export const RESCAN_MAX_AGE_MS = 24 * 60 * 60_000

/** One kind of activity notification: its kind, priority and the id it folds under. */
export interface ActivityRule {
  kind: string
  priority: NotificationPriority
  notificationId(subjectId: string, threadId: string, recipient: string): string
}

export const REPLY_RULE: ActivityRule = { kind: REPLY_KIND, priority: REPLY_PRIORITY, notificationId: replyNotificationId }
export const THREAD_RULE: ActivityRule = {
  kind: THREAD_KIND,
  priority: THREAD_PRIORITY,
  notificationId: (subjectId, _thread, recipient) => threadNotificationId(subjectId, recipient),
}
export const COMMENT_RULE: ActivityRule = {
  kind: COMMENT_KIND,
  priority: COMMENT_PRIORITY,
  notificationId: (subjectId, _thread, recipient) => commentNotificationId(subjectId, recipient),
}

/** What the reply rule needs to know about a new comment and its thread. */
export interface ReplyContext {
  authorId: string
  /** The thread's creator and every comment author. */
  participants: readonly string[]
  /** userId → true (subscribed) or false (muted). */
  subscribers: Readonly<Record<string, boolean>>
  /** Users mentioned in the reply. */
  mentioned: ReadonlySet<string>
  /** The subject's hosts and followers. */
  followers?: Readonly<Record<string, 'host' | 'follower'>>
}

/** Candidates for a reply notification, before the access check. */
export function replyRecipients(context: ReplyContext): string[] {
  const subscribed = Object.entries(context.subscribers)
    .filter(([, on]) => on)
    .map(([userId]) => userId)
  const candidates = new Set([...context.participants, ...subscribed])
  return [...candidates].filter((userId) => userId !== context.authorId && context.subscribers[userId] !== false && !context.mentioned.has(userId))
}

/** Candidates for a thread notification (the thread's first comment), before the access check. */
export function threadRecipients(context: ReplyContext): string[] {
  return Object.keys(context.followers ?? {}).filter(
    (userId) => userId !== context.authorId && context.subscribers[userId] !== false && !context.mentioned.has(userId),
  )
}

/** Candidates for a comment notification (a later comment): hosts not in the thread, before the access check. */
export function commentRecipients(context: ReplyContext): string[] {
  const inThread = new Set([...context.participants, ...Object.keys(context.subscribers)])
  return Object.entries(context.followers ?? {})
    .filter(([userId, role]) => role === 'host' && !inThread.has(userId) && userId !== context.authorId && !context.mentioned.has(userId))
    .map(([userId]) => userId)
}
