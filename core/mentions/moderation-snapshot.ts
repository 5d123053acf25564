/**
 * Snapshots of moderators' actions on comments, for the moderation detector: hides are read from
 * the comment's `moderation` (who hid it and when, so a rescan finds them too); deletions by
 * someone other than the author need the transaction's actor, so only the live transaction sees
 * them.
 */
import type * as Y from 'yjs'
import { CommentField, readModeration, ThreadField } from '../../protocol/index.ts'
import { commentEventId } from '../storage/notification-fold.ts'
import { DELETE_EVENT, hideEvent, type ModerationSnapshot } from '../notifications/moderation.ts'
import { forEachComment, subscribers } from './snapshot.ts'

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

/** The hide the comment carries, as a snapshot; null when it is not hidden (or foreign data). */
export function snapshotHide(thread: Y.Map<unknown>, comment: Y.Map<unknown>): ModerationSnapshot | null {
  const moderation = readModeration(comment.get(CommentField.moderation))
  const base = moderationBase(thread, comment)
  if (!moderation || !base) return null
  return { ...base, event: hideEvent(moderation.at), actor: moderation.hiddenBy, at: moderation.at, reason: moderation.reason }
}

/** A deletion by `actor` (the transaction's user), as a snapshot; null for foreign data or no known actor. */
export function snapshotDeletion(thread: Y.Map<unknown>, comment: Y.Map<unknown>, actor: string | undefined): ModerationSnapshot | null {
  const deletedAt = comment.get(CommentField.deletedAt)
  const base = moderationBase(thread, comment)
  if (actor === undefined || !base || typeof deletedAt !== 'number') return null
  return { ...base, event: DELETE_EVENT, actor, at: deletedAt, reason: '' }
}

function moderationBase(thread: Y.Map<unknown>, comment: Y.Map<unknown>) {
  const threadId = str(thread.get(ThreadField.id))
  const commentId = str(comment.get(CommentField.id))
  const authorId = str(comment.get(CommentField.authorId))
  if (threadId === null || commentId === null || authorId === null) return null
  return { threadId, commentId, authorId, authorMuted: subscribers(thread)[authorId] === false }
}

/** Every hide in the document not handled yet (the rescan when a document loads). */
export function snapshotAllHides(doc: Y.Doc, handled: ReadonlySet<string>): ModerationSnapshot[] {
  const snapshots: ModerationSnapshot[] = []
  forEachComment(doc, (thread, comment) => {
    const snapshot = snapshotHide(thread, comment)
    if (snapshot && !handled.has(commentEventId(snapshot.commentId, snapshot.event))) snapshots.push(snapshot)
  })
  return snapshots
}
