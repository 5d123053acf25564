/**
 * Everything the detectors need from one transaction, read synchronously while it is current:
 * comments created or whose body changed, reactions added or removed, and moderators' hides and
 * deletions (a deletion by `actor`, the transaction's user).
 */
import type { CommentSnapshot } from '../notifications/detector.ts'
import type { ModerationSnapshot } from '../notifications/moderation.ts'
import type { ReactionSnapshot } from '../notifications/reactions.ts'
import type { TransactionChanges } from './diff.ts'
import { snapshotDeletion, snapshotHide } from './moderation-snapshot.ts'
import { snapshotReaction } from './reaction-snapshot.ts'
import { snapshotComment } from './snapshot.ts'

export interface TransactionSnapshots {
  comments: CommentSnapshot[]
  reactions: ReactionSnapshot[]
  moderated: ModerationSnapshot[]
}

export function snapshotTransaction(changes: TransactionChanges, actor: string | undefined): TransactionSnapshots {
  const out: TransactionSnapshots = { comments: [], reactions: [], moderated: [] }
  for (const touch of changes.comments.values()) {
    const comment = touch.created || touch.bodyChanged ? snapshotComment(touch.thread, touch.comment, touch.created) : null
    const hide = touch.hidden ? snapshotHide(touch.thread, touch.comment) : null
    const deletion = touch.deleted ? snapshotDeletion(touch.thread, touch.comment, actor) : null
    if (comment) out.comments.push(comment)
    if (hide) out.moderated.push(hide)
    if (deletion) out.moderated.push(deletion)
  }
  for (const touch of changes.reactions) {
    const reaction = snapshotReaction(touch.thread, touch.comment, touch.key, touch.added)
    if (reaction) out.reactions.push(reaction)
  }
  return out
}
