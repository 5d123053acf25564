/**
 * The digest (contract additions, "Delivery"): the first push of a window goes out at once; later
 * ones inside the user's `digestSeconds` wait for the window's end and go out together as one
 * summary ("3 new notifications"). Mentions and `urgent` notifications bypass it.
 */
import type { NotificationRecord } from '../storage/types.ts'
import type { PushMessage } from './senders.ts'

export function bypassesDigest(note: Pick<NotificationRecord, 'kind' | 'priority'>): boolean {
  return note.kind === 'mention' || note.priority === 'urgent'
}

/** The outbox error of a row the digest held: once such a row is due again, its window has ended. */
export const DIGEST_HELD = 'digest window'

/** When a push must wait until: the end of the window the last push opened; null when it may go now. */
export function digestHoldUntil(lastSentAt: number | null, windowMs: number, now: number): number | null {
  if (windowMs <= 0 || lastSentAt === null) return null
  const end = lastSentAt + windowMs
  return now < end ? end : null
}

/**
 * When a user's pending notifications (not bypassing the digest) must wait until; null: now.
 * Some of them held before for the digest and due again means their window has ended: they go
 * now with the others, even though a mention or urgent push sent meanwhile moved `lastSentAt`
 * (otherwise a steady stream of mentions would hold them for ever).
 */
export function digestHold(rows: ReadonlyArray<{ lastError: string | null }>, lastSentAt: number | null, windowMs: number, now: number): number | null {
  if (rows.some((row) => row.lastError === DIGEST_HELD)) return null
  return digestHoldUntil(lastSentAt, windowMs, now)
}

const NOUNS: Record<string, [string, string]> = {
  reply: ['reply', 'replies'],
  thread: ['new thread', 'new threads'],
  comment: ['comment', 'comments'],
  reaction: ['reaction', 'reactions'],
  moderation: ['moderation notice', 'moderation notices'],
  mention: ['mention', 'mentions'],
}

/** "3 new replies", or "5 new notifications" when several kinds are in it; the newest notification's preview as body. */
export function summaryMessage(notes: readonly NotificationRecord[], badge: number, url: string | undefined): PushMessage {
  const newest = [...notes].sort((a, b) => b.notifiedAt - a.notifiedAt)[0]
  if (!newest) throw new Error('a summary of nothing')
  const count = notes.reduce((sum, n) => sum + Math.max(1, n.activityCount), 0)
  const kinds = new Set(notes.map((n) => n.kind))
  const noun = kinds.size === 1 ? (NOUNS[newest.kind] ?? ['notification', 'notifications']) : ['notification', 'notifications']
  return {
    notificationId: newest.id,
    kind: kinds.size === 1 ? newest.kind : 'digest',
    title: `${count} new ${count === 1 ? noun[0] : noun[1]}`,
    body: newest.preview,
    subjectId: newest.subjectId,
    threadId: kinds.size === 1 && notes.every((n) => n.threadId === newest.threadId) ? newest.threadId : null,
    collapseId: `digest_${newest.userId}`.slice(0, 64),
    badge,
    urgency: 'normal',
    url,
  }
}
