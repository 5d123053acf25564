/**
 * From comment snapshots to recorded notifications. For each comment it compares the mentions
 * in the body (the first `MAX_MENTIONS_PER_COMMENT` distinct ones) with those already
 * handled, decides each new one (notify, self, no access, or capped when the author's mention
 * budget for the minute is spent: mention-limits.ts), finds
 * the recipients of a new reply, and records everything with one storage call (handled rows,
 * notifications and outbox rows together), then announces what was created. Used for every
 * transaction and for the rescan when a document loads; storage's unique keys make a repeat a
 * no-op, so either may run twice. `thread.created` is announced when storage says a thread's first
 * comment was handled by this call.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { commentsDocumentName, type BodyRun } from '../../protocol/index.ts'
import type { AccessResolver } from '../access/resolve.ts'
import type { ParleyEvents } from '../events.ts'
import { announceThreadCreated } from '../webhooks/announce.ts'
import type { ActivityInput, HandledSets, MentionInput, MentionOutcome, RecordResult, Storage } from '../storage/types.ts'
import { mentionNotificationId, preview } from './ids.ts'
import { createMentionLimits, type MentionLimits } from './mention-limits.ts'
import type { Preferences } from './preferences.ts'
import { announceCreated, recipientChecks } from './recipient-checks.ts'
import { detectModeration, type ModerationSnapshot } from './moderation.ts'
import { detectReactions, type ReactionSnapshot } from './reactions.ts'
import {
  CHANNELS,
  COMMENT_RULE,
  commentRecipients,
  MENTION_KIND,
  MENTION_PRIORITY,
  REPLY_RULE,
  replyRecipients,
  THREAD_RULE,
  threadRecipients,
} from './rules.ts'

/**
 * Longest stretch of detection work (ms) between two turns of the event loop: a write of many long
 * comments is detected in slices, so that other clients' writes are served in between.
 */
export const DETECTION_SLICE_MS = 4

/** A comment as one transaction (or the rescan) left it, read synchronously from the document. */
export interface CommentSnapshot {
  threadId: string
  commentId: string
  authorId: string
  deleted: boolean
  runs: BodyRun[]
  text: string
  /** Mentioned user ids (attribute runs) and plain `@handles` (lower-cased). */
  mentions: { userIds: string[]; handles: string[] }
  /** Activity to handle: the comment was created by this write (or is unhandled at a rescan), and is not deleted. */
  activity: CommentActivity | null
  /** True when created by this write (or unhandled at a rescan): its activity gets recorded as handled. */
  fresh: boolean
}

/** What the activity rules need about a new comment's thread and subject. */
export interface CommentActivity {
  /** The thread's first comment: the thread starts. */
  first: boolean
  /** The thread's creator and every comment author. */
  participants: string[]
  /** userId → true (subscribed) or false (muted the thread). */
  subscribers: Record<string, boolean>
  /** The subject's hosts and followers. */
  followers: Record<string, 'host' | 'follower'>
}

export interface DetectorOptions {
  storage: Storage
  access: AccessResolver
  events: ParleyEvents
  /** Per-comment and per-author mention bounds (default: the contract's defaults, nothing logged or counted). */
  limits?: MentionLimits | undefined
  /** A user's effective notification preferences (default: everyone has the defaults). */
  preferences?: ((userId: string) => Promise<Preferences>) | undefined
  /** The batch form of `preferences` (an entry for every user asked for): one read for a whole round of recipients. */
  preferencesOf?: ((userIds: readonly string[]) => Promise<Map<string, Preferences>>) | undefined
  /** Outbox channels a new or changed notification is queued on (default: the inbox; push when configured). */
  channels?: readonly string[] | undefined
}

export interface DetectOptions {
  /** Records mentions as seen without notifying (a document that predates notifications). */
  baseline?: boolean
  /** A rescan of the whole document: mentions beyond the per-comment limit of comments handled before are not counted again. */
  rescan?: boolean
}

export interface Detector {
  /** Records what the snapshots hold that `handled` does not. */
  detect(subjectId: string, snapshots: readonly CommentSnapshot[], handled: HandledSets, options?: DetectOptions): Promise<RecordResult>
  /** Records reactions added that `handled` does not hold, and takes removed ones back (core/notifications/reactions.ts). */
  detectReactions(subjectId: string, reactions: readonly ReactionSnapshot[], handled: HandledSets, options?: DetectOptions): Promise<RecordResult>
  /** Records moderators' actions on comments that `handled` does not hold (core/notifications/moderation.ts). */
  detectModeration(subjectId: string, actions: readonly ModerationSnapshot[], handled: HandledSets, options?: DetectOptions): Promise<RecordResult>
}

/** The distinct mentions of a comment, attribute mentions (user ids) first, then `@handles`. */
type MentionToken = { userId: string } | { handle: string }

export function createDetector(options: DetectorOptions): Detector {
  const { storage, access, events } = options
  const limits = options.limits ?? createMentionLimits()

  return {
    detectReactions: (subjectId, reactions, handled, detectOptions) => detectReactions(options, subjectId, reactions, handled, detectOptions),
    detectModeration: (subjectId, actions, handled, detectOptions) => detectModeration(options, subjectId, actions, handled, detectOptions),
    async detect(subjectId, snapshots, handled, { baseline = false, rescan = false } = {}) {
      const documentName = commentsDocumentName(subjectId)
      const handles = new Map<string, Promise<string | null>>()
      const resolve = (handle: string) => {
        let found = handles.get(handle)
        if (!found) handles.set(handle, (found = storage.users.findByHandle(handle).then((user) => user?.id ?? null)))
        return found
      }
      const { prefetch, mayRead, wantsInApp } = recipientChecks(subjectId, access, options.preferences, Date.now(), options.preferencesOf)

      const mentions: MentionInput[] = []
      const comments: Array<{ subjectId: string; commentId: string; activities: ActivityInput[] }> = []
      const now = Date.now()
      let sliceStarted = performance.now()
      for (const s of snapshots) {
        if (performance.now() - sliceStarted > DETECTION_SLICE_MS) {
          await nextTurn()
          sliceStarted = performance.now()
        }
        if (s.deleted) {
          if (s.fresh) comments.push({ subjectId, commentId: s.commentId, activities: [] })
          continue
        }
        const tokens: MentionToken[] = [...s.mentions.userIds.map((userId) => ({ userId })), ...s.mentions.handles.map((handle) => ({ handle }))]
        const counted = !rescan || !handled.comments.has(s.commentId)
        const context = { documentName, commentId: s.commentId }
        const kept = counted ? limits.capComment(s.authorId, tokens, context) : tokens.slice(0, limits.perComment)
        const resolved = await Promise.all(kept.map((t) => ('userId' in t ? Promise.resolve(t.userId) : resolve(t.handle))))
        const mentioned = new Set(resolved.filter((id): id is string => id !== null))
        const already = handled.mentions.get(s.commentId)
        const text = preview(s.text)
        // Access and preferences of everyone this comment newly mentions, in one read each.
        const unasked = baseline ? [] : [...mentioned].filter((userId) => userId !== s.authorId && !already?.has(userId))
        if (unasked.length > 0) await prefetch(unasked)
        for (const userId of mentioned) {
          if (already?.has(userId)) continue
          if (baseline) {
            mentions.push({ subjectId, commentId: s.commentId, userId, outcome: 'baseline' })
            continue
          }
          let outcome: MentionOutcome = userId === s.authorId ? 'self' : (await mayRead(userId)) ? 'notified' : 'no_access'
          if (outcome === 'notified' && !(await wantsInApp(userId, MENTION_KIND, MENTION_PRIORITY))) outcome = 'silenced'
          if (outcome === 'notified' && !limits.takeNotification(s.authorId, { ...context, userId })) outcome = 'capped'
          const activity: ActivityInput | undefined =
            outcome === 'notified'
              ? {
                  key: { kind: MENTION_KIND, subjectId, commentId: s.commentId, recipient: userId },
                  commentId: s.commentId,
                  notificationId: mentionNotificationId(subjectId, s.commentId, userId),
                  fold: false,
                  kind: MENTION_KIND,
                  priority: MENTION_PRIORITY,
                  threadId: s.threadId,
                  actor: s.authorId,
                  preview: text,
                  at: now,
                }
              : undefined
          mentions.push({ subjectId, commentId: s.commentId, userId, outcome, activity })
        }
        if (!s.fresh || handled.comments.has(s.commentId)) continue
        const activities: ActivityInput[] = []
        if (s.activity && !baseline) {
          const activity = { authorId: s.authorId, ...s.activity, mentioned }
          const rounds = s.activity.first
            ? [{ rule: THREAD_RULE, recipients: threadRecipients(activity) }]
            : [
                { rule: REPLY_RULE, recipients: replyRecipients(activity) },
                { rule: COMMENT_RULE, recipients: commentRecipients(activity) },
              ]
          await prefetch(rounds.flatMap((round) => [...round.recipients]))
          for (const { rule, recipients } of rounds) {
            for (const recipient of recipients) {
              if (!(await mayRead(recipient)) || !(await wantsInApp(recipient, rule.kind, rule.priority))) continue
              activities.push({
                key: { kind: rule.kind, subjectId, commentId: s.commentId, recipient },
                commentId: s.commentId,
                notificationId: rule.notificationId(subjectId, s.threadId, recipient),
                fold: true,
                kind: rule.kind,
                priority: rule.priority,
                threadId: s.threadId,
                actor: s.authorId,
                preview: text,
                at: now,
              })
            }
          }
        }
        comments.push({ subjectId, commentId: s.commentId, activities })
      }
      if (mentions.length === 0 && comments.length === 0) return { mentions: [], notifications: [], removed: [] }

      const result = await storage.notifications.record({ mentions, comments, channels: options.channels ?? CHANNELS })
      // What is in storage now, whoever recorded it (this call, or an earlier one).
      for (const m of mentions) {
        const users = handled.mentions.get(m.commentId) ?? new Set<string>()
        users.add(m.userId)
        handled.mentions.set(m.commentId, users)
      }
      for (const c of comments) handled.comments.add(c.commentId)

      const threadOf = new Map(snapshots.map((s) => [s.commentId, s]))
      for (const m of result.mentions) {
        if (m.outcome !== 'notified' || !m.activity) continue
        const s = threadOf.get(m.commentId)
        events.emit(
          'mention.created',
          {
            subjectId,
            threadId: s?.threadId ?? '',
            commentId: m.commentId,
            authorId: s?.authorId ?? '',
            userId: m.userId,
            notificationId: m.activity.notificationId,
          },
          m.activity.notificationId,
        )
      }
      // A thread starts when its first comment is newly handled: once, whichever write or rescan recorded it.
      if (!baseline) {
        const handledNow = new Set(result.comments)
        for (const s of snapshots) {
          if (s.activity?.first && handledNow.has(s.commentId))
            announceThreadCreated(events, { subjectId, threadId: s.threadId, commentId: s.commentId, authorId: s.authorId })
        }
      }
      announceCreated(events, result)
      return result
    },
  }
}
