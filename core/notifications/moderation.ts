/**
 * Moderation notifications to authors (contract additions, "Notification kinds"): a moderator
 * hid or deleted someone's comment, and its author hears it, folded per comment. Never for one's
 * own deletion, never to an author who muted the thread, may not read the subject, or turned
 * moderation off in-app. Each action is recorded once (`hide@<at>` for every hide, `delete`),
 * with its notification, in one storage transaction. (Reports reaching the subject's moderators
 * come with the moderation REST routes.)
 */
import type { AccessResolver } from '../access/resolve.ts'
import type { ParleyEvents } from '../events.ts'
import { commentEventId } from '../storage/notification-fold.ts'
import type { ActivityInput, CommentEventRef, HandledSets, RecordResult, Storage } from '../storage/types.ts'
import { recordCommentEvents } from './comment-events.ts'
import { moderationNotificationId, preview } from './ids.ts'
import type { Preferences } from './preferences.ts'
import { recipientChecks } from './recipient-checks.ts'
import { MODERATION_KIND, MODERATION_PRIORITY, RESCAN_MAX_AGE_MS } from './rules.ts'

/** The comment event of a deletion by someone else. */
export const DELETE_EVENT = 'delete'

/** The comment event of one hide (each hide, after an unhide, is another). */
export function hideEvent(at: number): string {
  return `hide@${at}`
}

/** A moderator's action on a comment, read synchronously from the document (and the transaction's actor). */
export interface ModerationSnapshot {
  threadId: string
  commentId: string
  /** The comment's author: who hears it. */
  authorId: string
  /** {@link hideEvent} or {@link DELETE_EVENT}. */
  event: string
  /** The moderator. */
  actor: string
  /** When it happened. */
  at: number
  /** The moderator's reason (hides), shown as the preview. */
  reason: string
  /** The author muted the thread (`subscribers[author] = false`). */
  authorMuted: boolean
}

export interface ModerationDetectOptions {
  /** Records actions as seen without notifying (a document that predates notifications). */
  baseline?: boolean
  /** A rescan: unhandled actions older than {@link RESCAN_MAX_AGE_MS} are recorded without notifying. */
  rescan?: boolean
}

export interface ModerationDetectorOptions {
  storage: Storage
  access: AccessResolver
  events: ParleyEvents
  preferences?: ((userId: string) => Promise<Preferences>) | undefined
  /** Outbox channels a notification is queued on (default: the inbox). */
  channels?: readonly string[] | undefined
}

export async function detectModeration(
  options: ModerationDetectorOptions,
  subjectId: string,
  actions: readonly ModerationSnapshot[],
  handled: HandledSets,
  { baseline = false, rescan = false }: ModerationDetectOptions = {},
): Promise<RecordResult> {
  const now = Date.now()
  const { mayRead, wantsInApp } = recipientChecks(subjectId, options.access, options.preferences, now)
  const added: Array<CommentEventRef & { activities: ActivityInput[] }> = []
  for (const m of actions) {
    const activityId = commentEventId(m.commentId, m.event)
    if (m.actor === m.authorId || handled.events.has(activityId)) continue
    const stale = baseline || (rescan && m.at < now - RESCAN_MAX_AGE_MS)
    const heard = !stale && !m.authorMuted && (await mayRead(m.authorId)) && (await wantsInApp(m.authorId, MODERATION_KIND, MODERATION_PRIORITY))
    const activities: ActivityInput[] = heard
      ? [
          {
            key: { kind: MODERATION_KIND, subjectId, commentId: activityId, recipient: m.authorId },
            commentId: m.commentId,
            notificationId: moderationNotificationId(subjectId, m.commentId, m.authorId),
            fold: true,
            kind: MODERATION_KIND,
            priority: MODERATION_PRIORITY,
            threadId: m.threadId,
            actor: m.actor,
            preview: preview(m.reason),
            at: now,
          },
        ]
      : []
    added.push({ subjectId, commentId: m.commentId, event: m.event, activities })
  }
  return recordCommentEvents(options.storage, options.events, handled, added, [], options.channels)
}
