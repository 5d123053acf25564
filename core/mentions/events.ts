/**
 * Announces what a transaction did to comments as typed events (comment.created, .edited,
 * .deleted, reaction.added, .removed, thread.resolved, .reopened). Emitted after the transaction has ended
 * (a microtask later), so that handlers never run inside it.
 */
import * as Y from 'yjs'
import { CommentField, readRuns, runsToText, ThreadField } from '../../protocol/index.ts'
import type { ParleyEvents } from '../events.ts'
import type { TransactionChanges } from './diff.ts'
import { mentionedUserIds } from './extract.ts'

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

/** Separates emoji and user id in a reaction key (the last `|`). */
function splitReaction(key: string): { emoji: string; userId: string } | null {
  const at = key.lastIndexOf('|')
  return at <= 0 ? null : { emoji: key.slice(0, at), userId: key.slice(at + 1) }
}

function isGone(comment: Y.Map<unknown>): boolean {
  return (
    typeof comment.get(CommentField.deletedAt) === 'number' ||
    (typeof comment.get(CommentField.moderation) === 'object' && comment.get(CommentField.moderation) !== null)
  )
}

/** `actorId`: the user who wrote the transaction (thread.reopened names them), null when unknown. */
export function announce(events: ParleyEvents, subjectId: string, changes: TransactionChanges, actorId: string | null = null): void {
  const pending: Array<() => void> = []
  for (const touch of changes.comments.values()) {
    const threadId = str(touch.thread.get(ThreadField.id))
    const commentId = str(touch.comment.get(CommentField.id))
    const authorId = str(touch.comment.get(CommentField.authorId))
    if (threadId === null || commentId === null || authorId === null) continue
    const ref = { subjectId, threadId, commentId, authorId }
    const body = touch.comment.get(CommentField.body)
    const runs = !isGone(touch.comment) && body instanceof Y.Text ? readRuns(body) : []
    const content = () => ({ text: runsToText(runs), mentions: mentionedUserIds(runs) })
    if (touch.created) {
      const parentId = str(touch.comment.get(CommentField.parentId))
      pending.push(() => events.emit('comment.created', { ...ref, parentId, ...content() }))
    } else if (touch.deleted) {
      pending.push(() => events.emit('comment.deleted', ref))
    } else if ((touch.bodyChanged || touch.edited) && !isGone(touch.comment)) {
      pending.push(() => events.emit('comment.edited', { ...ref, ...content() }))
    }
  }
  for (const reaction of changes.reactions) {
    const threadId = str(reaction.thread.get(ThreadField.id))
    const commentId = str(reaction.comment.get(CommentField.id))
    const parsed = splitReaction(reaction.key)
    if (threadId === null || commentId === null || parsed === null) continue
    const data = { subjectId, threadId, commentId, ...parsed }
    pending.push(() => events.emit(reaction.added ? 'reaction.added' : 'reaction.removed', data))
  }
  for (const thread of changes.resolved) {
    const threadId = str(thread.get(ThreadField.id))
    if (threadId !== null) pending.push(() => events.emit('thread.resolved', { subjectId, threadId, userId: str(thread.get(ThreadField.resolvedBy)) }))
  }
  for (const thread of changes.reopened ?? []) {
    const threadId = str(thread.get(ThreadField.id))
    if (threadId !== null) pending.push(() => events.emit('thread.reopened', { subjectId, threadId, userId: actorId }))
  }
  if (pending.length > 0) queueMicrotask(() => pending.forEach((emit) => emit()))
}
