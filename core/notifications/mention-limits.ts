/**
 * Bounds on what mentions may cost: at most {@link MAX_MENTIONS_PER_COMMENT} distinct mentions of
 * one comment are looked at (the rest are not mentions: never resolved, recorded or notified), and
 * at most {@link MAX_MENTION_NOTIFICATIONS_PER_AUTHOR_PER_MINUTE} mention notifications per author
 * in any sliding minute (beyond: recorded as `capped`, not notified). Both drops are counted and
 * logged once per burst. Per instance: with several instances an author's budget is per instance.
 */
import type { Logger } from 'pino'

/** Distinct mentions of one comment that may notify (contract floor: 20). */
export const MAX_MENTIONS_PER_COMMENT = 20

/** Mention notifications one author may cause per sliding minute (contract floor: 60). */
export const MAX_MENTION_NOTIFICATIONS_PER_AUTHOR_PER_MINUTE = 60

/** The window of the per-author budget. */
export const MENTION_WINDOW_MS = 60_000

/** A burst of drops is logged once; the next log for that author and reason comes after this long. */
export const MENTION_DROP_LOG_INTERVAL_MS = 60_000

/** Why a mention was dropped. */
export type MentionDropReason = 'per_comment' | 'per_author'

export interface MentionLimitsOptions {
  perComment?: number
  perAuthorPerMinute?: number
  logger?: Logger | undefined
  /** Counts dropped mentions (a metric). */
  dropped?: ((reason: MentionDropReason, count: number) => void) | undefined
  now?: () => number
}

export interface MentionLimits {
  /** Distinct mentions of one comment that may notify. */
  readonly perComment: number
  /** The first `perComment` mentions (in order); the rest are counted and logged as dropped. */
  capComment<T>(authorId: string, mentions: readonly T[], context: Record<string, unknown>): T[]
  /** Takes one mention notification from the author's budget; false (counted, logged) when it is spent. */
  takeNotification(authorId: string, context: Record<string, unknown>): boolean
}

export function createMentionLimits(options: MentionLimitsOptions = {}): MentionLimits {
  const perComment = options.perComment ?? MAX_MENTIONS_PER_COMMENT
  const perAuthor = options.perAuthorPerMinute ?? MAX_MENTION_NOTIFICATIONS_PER_AUTHOR_PER_MINUTE
  const now = options.now ?? Date.now
  /** Per author: times of the notifications sent in the window, oldest first. */
  const sent = new Map<string, number[]>()
  /** Per reason and author: when the last log line was written, and drops since. */
  const bursts = new Map<string, { loggedAt: number; since: number }>()
  let lastSweep = now()

  /** Forgets authors whose window is empty and bursts long over, at most once per window. */
  const sweep = (at: number) => {
    if (at - lastSweep < MENTION_WINDOW_MS) return
    lastSweep = at
    for (const [author, times] of sent) if ((times.at(-1) ?? 0) <= at - MENTION_WINDOW_MS) sent.delete(author)
    for (const [key, burst] of bursts) if (at - burst.loggedAt >= MENTION_DROP_LOG_INTERVAL_MS) bursts.delete(key)
  }

  const drop = (reason: MentionDropReason, authorId: string, count: number, context: Record<string, unknown>) => {
    options.dropped?.(reason, count)
    const at = now()
    const key = `${reason}\u0000${authorId}`
    const burst = bursts.get(key)
    if (burst && at - burst.loggedAt < MENTION_DROP_LOG_INTERVAL_MS) {
      burst.since += count
      return
    }
    const limit = reason === 'per_comment' ? perComment : perAuthor
    options.logger?.warn(
      { ...context, authorId, reason, limit, dropped: count, droppedSinceLastLog: burst?.since ?? 0 },
      reason === 'per_comment' ? 'mentions beyond the per-comment limit are ignored' : 'mention notifications beyond the per-author limit are not sent',
    )
    bursts.set(key, { loggedAt: at, since: 0 })
  }

  return {
    perComment,
    capComment(authorId, mentions, context) {
      if (mentions.length <= perComment) return [...mentions]
      drop('per_comment', authorId, mentions.length - perComment, context)
      return mentions.slice(0, perComment)
    },
    takeNotification(authorId, context) {
      const at = now()
      sweep(at)
      const times = (sent.get(authorId) ?? []).filter((t) => t > at - MENTION_WINDOW_MS)
      if (times.length >= perAuthor) {
        sent.set(authorId, times)
        drop('per_author', authorId, 1, context)
        return false
      }
      times.push(at)
      sent.set(authorId, times)
      return true
    },
  }
}
