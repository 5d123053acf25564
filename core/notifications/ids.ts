/**
 * Deterministic notification ids: the same key gives the same id on every instance, every time,
 * so that recording twice, projecting twice or replaying a projection never makes two entries.
 * Short (so that a trimmed entry leaves a small tombstone in the inbox document) and valid ids.
 */
import { createHash } from 'node:crypto'
import { PREVIEW_LENGTH } from '../../protocol/index.ts'

/** Characters of base64url SHA-256 kept: 96 bits, collisions out of reach for one user's inbox. */
export const ID_HASH_CHARS = 16

function hashed(prefix: string, parts: readonly string[]): string {
  return `${prefix}_${createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, ID_HASH_CHARS)}`
}

/** A mention: one notification per (subject, comment, recipient), never folded. */
export function mentionNotificationId(subjectId: string, commentId: string, recipient: string): string {
  return hashed('m', ['mention', subjectId, commentId, recipient])
}

/** Replies fold per thread: one notification per (subject, thread, recipient). */
export function replyNotificationId(subjectId: string, threadId: string, recipient: string): string {
  return hashed('r', ['reply', subjectId, threadId, recipient])
}

/** Thread starts fold per subject: one notification per (subject, recipient). */
export function threadNotificationId(subjectId: string, recipient: string): string {
  return hashed('t', ['thread', subjectId, recipient])
}

/** Comments in threads a host is not in fold per subject: one notification per (subject, recipient). */
export function commentNotificationId(subjectId: string, recipient: string): string {
  return hashed('c', ['comment', subjectId, recipient])
}

/** Reactions fold per comment: one notification per (subject, comment, recipient). */
export function reactionNotificationId(subjectId: string, commentId: string, recipient: string): string {
  return hashed('a', ['reaction', subjectId, commentId, recipient])
}

/** Moderation of one's comment folds per comment: one notification per (subject, comment, recipient). */
export function moderationNotificationId(subjectId: string, commentId: string, recipient: string): string {
  return hashed('o', ['moderation', subjectId, commentId, recipient])
}

/** The event id of a notification's creation: receivers dedupe by it. */
export function notificationEventId(userId: string, notificationId: string, version: number): string {
  return hashed('e', [userId, notificationId, String(version)])
}

/** Characters of a text read per step for its preview: four steps' worth covers every comment but those padded with long whitespace runs. */
const PREVIEW_SCAN_CHARS = 4 * PREVIEW_LENGTH

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff
const isLowSurrogate = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff

/** Where the first `points` code points of `text` end (a pair counts once, a lone surrogate once, as `Array.from` counts), or -1 when it has fewer. */
function codePointEnd(text: string, points: number): number {
  let index = 0
  for (let seen = 0; seen < points; seen++) {
    if (index >= text.length) return -1
    index += isHighSurrogate(text.charCodeAt(index)) && isLowSurrogate(text.charCodeAt(index + 1)) ? 2 : 1
  }
  return index
}

/** At most {@link PREVIEW_LENGTH} characters (code points, so no surrogate pair is cut). */
export function preview(text: string): string {
  // Whitespace runs read as one space; only as much of the text as the preview needs is read, and
  // nothing is split into code points (this runs for every comment written).
  for (let end = PREVIEW_SCAN_CHARS; ; end *= 4) {
    const whole = end >= text.length
    const collapsed = (whole ? text : text.slice(0, end)).replace(/\s+/g, ' ').trim()
    // No more UTF-16 units than the limit: no more code points either.
    if (whole && collapsed.length <= PREVIEW_LENGTH) return collapsed
    // More than the limit: the first limit - 1 and an ellipsis.
    if (codePointEnd(collapsed, PREVIEW_LENGTH + 1) !== -1) return `${collapsed.slice(0, codePointEnd(collapsed, PREVIEW_LENGTH - 1))}…`
    if (whole) return collapsed
  }
}
