/**
 * Who hears what, for now. `mention`: the mentioned user, at once, never folded. `reply`: the
 * thread's participants (its creator and comment authors) and subscribers, except the actor,
 * those who muted the thread and those mentioned in the reply (they hear the mention), folded
 * per thread until read. Nobody hears about a deleted comment, and nobody who may not read the
 * subject hears anything (the detector asks the access resolver).
 *
 * Delivery beyond the in-app inbox, preferences and digests slot in here: a rule names the
 * recipients, kind, priority, fold and channels of each piece of activity.
 */
import type { NotificationPriority } from '../storage/types.ts'

/** The outbox channels every notification goes to today (push, email come with preferences). */
export const CHANNELS: readonly string[] = ['inbox']

export const MENTION_KIND = 'mention'
export const REPLY_KIND = 'reply'

/** Priority of a mention: someone asked for this user. */
export const MENTION_PRIORITY: NotificationPriority = 'high'

/** Priority of thread activity. */
export const REPLY_PRIORITY: NotificationPriority = 'normal'

/** What the reply rule needs to know about a new comment and its thread. */
export interface ReplyContext {
  authorId: string
  /** The thread's creator and every comment author. */
  participants: readonly string[]
  /** userId → true (subscribed) or false (muted). */
  subscribers: Readonly<Record<string, boolean>>
  /** Users mentioned in the reply. */
  mentioned: ReadonlySet<string>
}

/** Candidates for a reply notification, before the access check. */
export function replyRecipients(context: ReplyContext): string[] {
  const subscribed = Object.entries(context.subscribers)
    .filter(([, on]) => on)
    .map(([userId]) => userId)
  const candidates = new Set([...context.participants, ...subscribed])
  return [...candidates].filter((userId) => userId !== context.authorId && context.subscribers[userId] !== false && !context.mentioned.has(userId))
}
