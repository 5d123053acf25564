/**
 * What the search index holds for a comment, read from the document: its ids, author, creation
 * time and plain text (mentions as their shown text), or nothing when it must not be found
 * (deleted, hidden by a moderator, empty, or foreign data without ids).
 */
import * as Y from 'yjs'
import { CommentField, readRuns, runsToText, THREADS, ThreadField } from '../../protocol/index.ts'
import type { SearchEntry } from '../storage/search-types.ts'
import { tokenize } from './query.ts'

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

/** Whether the comment is deleted or hidden: never in the index. */
export function isGone(comment: Y.Map<unknown>): boolean {
  const moderation = comment.get(CommentField.moderation)
  return typeof comment.get(CommentField.deletedAt) === 'number' || (typeof moderation === 'object' && moderation !== null)
}

export type IndexDecision = { kind: 'put'; entry: SearchEntry } | { kind: 'remove'; commentId: string } | null

/** What the index must hold for one comment: its entry, its removal, or nothing (no id). */
export function decideComment(subjectId: string, thread: Y.Map<unknown>, comment: Y.Map<unknown>): IndexDecision {
  const commentId = str(comment.get(CommentField.id))
  if (commentId === null) return null
  const threadId = str(thread.get(ThreadField.id))
  const authorId = str(comment.get(CommentField.authorId))
  const body = comment.get(CommentField.body)
  if (threadId === null || authorId === null || isGone(comment) || !(body instanceof Y.Text)) return { kind: 'remove', commentId }
  const text = runsToText(readRuns(body))
  const tokens = tokenize(text)
  if (tokens.length === 0) return { kind: 'remove', commentId }
  const createdAt = comment.get(CommentField.createdAt)
  return {
    kind: 'put',
    entry: { subjectId, threadId, commentId, authorId, createdAt: typeof createdAt === 'number' && Number.isFinite(createdAt) ? createdAt : 0, text, tokens },
  }
}

/** Every entry of a comments document (a rebuild). */
export function entriesOf(subjectId: string, doc: Y.Doc): SearchEntry[] {
  const entries: SearchEntry[] = []
  for (const thread of doc.getMap(THREADS).values()) {
    if (!(thread instanceof Y.Map)) continue
    const comments = thread.get(ThreadField.comments)
    if (!(comments instanceof Y.Array)) continue
    for (const comment of comments) {
      if (!(comment instanceof Y.Map)) continue
      const decision = decideComment(subjectId, thread as Y.Map<unknown>, comment as Y.Map<unknown>)
      if (decision?.kind === 'put') entries.push(decision.entry)
    }
  }
  return entries
}
