/** Plain snapshots of reactions, read synchronously from the document for the reaction detector. */
import * as Y from 'yjs'
import { CommentField, readRuns, REACTION_SEPARATOR, runsToText, ThreadField } from '../../protocol/index.ts'
import { commentEventId } from '../storage/notification-fold.ts'
import type { ReactionSnapshot } from '../notifications/reactions.ts'
import { forEachComment, isGone, subscribers } from './snapshot.ts'

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

/** The reactor of a reaction key (`emoji|userId`, split at the last separator); null when malformed. */
export function reactorOf(key: string): string | null {
  const at = key.lastIndexOf(REACTION_SEPARATOR)
  return at <= 0 || at === key.length - 1 ? null : key.slice(at + 1)
}

function reactionsOf(comment: Y.Map<unknown>): Y.Map<unknown> | null {
  const map = comment.get(CommentField.reactions)
  return map instanceof Y.Map ? (map as Y.Map<unknown>) : null
}

/** A snapshot of one reaction added or removed; null for foreign data (no ids, no author, a malformed key). */
export function snapshotReaction(thread: Y.Map<unknown>, comment: Y.Map<unknown>, reactionKey: string, added: boolean): ReactionSnapshot | null {
  const threadId = str(thread.get(ThreadField.id))
  const commentId = str(comment.get(CommentField.id))
  const authorId = str(comment.get(CommentField.authorId))
  const reactor = reactorOf(reactionKey)
  if (threadId === null || commentId === null || authorId === null || reactor === null) return null
  const reactions = reactionsOf(comment)
  const value = reactions?.get(reactionKey)
  const gone = isGone(comment)
  const body = comment.get(CommentField.body)
  let reactorStays = false
  if (!added && reactions) for (const key of reactions.keys()) if (reactorOf(key) === reactor) reactorStays = true
  return {
    threadId,
    commentId,
    authorId,
    reactionKey,
    reactor,
    added,
    setAt: added && typeof value === 'number' ? value : 0,
    commentGone: gone,
    // Only what a notification shows: read when it may notify.
    text: added && !gone && body instanceof Y.Text ? runsToText(readRuns(body)) : '',
    authorMuted: subscribers(thread)[authorId] === false,
    reactorStays,
  }
}

/** Every reaction of the document not handled yet (the rescan when a document loads). */
export function snapshotAllReactions(doc: Y.Doc, handled: ReadonlySet<string>): ReactionSnapshot[] {
  const snapshots: ReactionSnapshot[] = []
  forEachComment(doc, (thread, comment) => {
    const commentId = str(comment.get(CommentField.id))
    const reactions = reactionsOf(comment)
    if (commentId === null || !reactions) return
    for (const key of reactions.keys()) {
      if (handled.has(commentEventId(commentId, key))) continue
      const snapshot = snapshotReaction(thread, comment, key, true)
      if (snapshot) snapshots.push(snapshot)
    }
  })
  return snapshots
}
