/**
 * Reaction notifications (contract additions, "Notification kinds"): a reaction tells the
 * comment's author, folded per comment until read. Never the reactor's own comment, never a
 * deleted or hidden comment, never an author who muted the thread or may not read the subject or
 * turned reactions off in-app. Each reaction is recorded once (a handled mark, with its
 * notification, in one storage transaction); removing it takes it back out of the notification
 * while that is unread, and forgets it, so that adding it again counts again.
 */
import type { AccessResolver } from '../access/resolve.ts'
import type { ParleyEvents } from '../events.ts'
import { commentEventId } from '../storage/notification-fold.ts'
import type { ActivityInput, HandledSets, CommentEventRef, RecordResult, Storage, TakeBackInput } from '../storage/types.ts'
import { preview, reactionNotificationId } from './ids.ts'
import type { Preferences } from './preferences.ts'
import { recordCommentEvents } from './comment-events.ts'
import { recipientChecks } from './recipient-checks.ts'
import { REACTION_KIND, REACTION_PRIORITY, RESCAN_MAX_AGE_MS } from './rules.ts'

/** A reaction as one transaction (or the rescan) left it, read synchronously from the document. */
export interface ReactionSnapshot {
  threadId: string
  commentId: string
  /** The comment's author: who hears it. */
  authorId: string
  /** The key in the comment's `reactions` map (`emoji|userId`). */
  reactionKey: string
  reactor: string
  /** Added (by this write, or found unhandled at a rescan); false: removed by this write. */
  added: boolean
  /** When it was set (the map's value), 0 when unknown or removed. */
  setAt: number
  /** The comment is deleted or hidden. */
  commentGone: boolean
  /** The comment's text, for the preview. */
  text: string
  /** The author muted the thread (`subscribers[author] = false`). */
  authorMuted: boolean
  /** The reactor keeps another reaction on the comment (they stay among the notification's actors). */
  reactorStays: boolean
}

export interface ReactionDetectOptions {
  /** Records reactions as seen without notifying (a document that predates notifications). */
  baseline?: boolean
  /** A rescan: unhandled reactions older than {@link RESCAN_MAX_AGE_MS} are recorded without notifying. */
  rescan?: boolean
}

export interface ReactionDetectorOptions {
  storage: Storage
  access: AccessResolver
  events: ParleyEvents
  preferences?: ((userId: string) => Promise<Preferences>) | undefined
  /** Outbox channels a notification is queued on (default: the inbox). */
  channels?: readonly string[] | undefined
}

export async function detectReactions(
  options: ReactionDetectorOptions,
  subjectId: string,
  reactions: readonly ReactionSnapshot[],
  handled: HandledSets,
  { baseline = false, rescan = false }: ReactionDetectOptions = {},
): Promise<RecordResult> {
  const now = Date.now()
  const { mayRead, wantsInApp } = recipientChecks(subjectId, options.access, options.preferences, now)
  const added: Array<CommentEventRef & { activities: ActivityInput[] }> = []
  const takeBacks: TakeBackInput[] = []
  for (const r of reactions) {
    const ref = { subjectId, commentId: r.commentId, event: r.reactionKey }
    const activityId = commentEventId(r.commentId, r.reactionKey)
    const notificationId = reactionNotificationId(subjectId, r.commentId, r.authorId)
    if (!r.added) {
      takeBacks.push({ ...ref, userId: r.authorId, notificationId, kind: REACTION_KIND, actor: r.reactor, actorStays: r.reactorStays })
      continue
    }
    if (handled.events.has(activityId)) continue
    const stale = baseline || (rescan && r.setAt < now - RESCAN_MAX_AGE_MS)
    const heard =
      !stale &&
      !r.commentGone &&
      !r.authorMuted &&
      r.reactor !== r.authorId &&
      (await mayRead(r.authorId)) &&
      (await wantsInApp(r.authorId, REACTION_KIND, REACTION_PRIORITY))
    const activities: ActivityInput[] = heard
      ? [
          {
            key: { kind: REACTION_KIND, subjectId, commentId: activityId, recipient: r.authorId },
            commentId: r.commentId,
            notificationId,
            fold: true,
            kind: REACTION_KIND,
            priority: REACTION_PRIORITY,
            threadId: r.threadId,
            actor: r.reactor,
            preview: preview(r.text),
            at: now,
          },
        ]
      : []
    added.push({ ...ref, activities })
  }
  return recordCommentEvents(options.storage, options.events, handled, added, takeBacks, options.channels)
}
