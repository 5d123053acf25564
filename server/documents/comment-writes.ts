/**
 * Server-side writers for the REST routes, on top of the schema writers of protocol/comments:
 * they tell a deleted comment (409 `comment_deleted`) from a refused write, let a moderator delete
 * another user's comment, and hide or unhide a comment. Each runs on the writer's scratch copy;
 * the write guard still has the last word on what they produce.
 */
import * as Y from 'yjs'
import {
  CommentField,
  deleteComment,
  editComment,
  ErrorCode,
  findComment,
  getThread,
  LOCAL_WRITE,
  ParleyError,
  react,
  readModeration,
  readRuns,
  roleAtLeast,
  unreact,
  writeRuns,
  type BodyInput,
  type BodyRun,
  type Moderation,
  type Role,
  type WriteContext,
} from '../../protocol/index.ts'

/** The comment, refusing one that is deleted with `comment_deleted`. */
export function liveComment(doc: Y.Doc, threadId: string, commentId: string): Y.Map<unknown> {
  const comment = findComment(getThread(doc, threadId), commentId)
  if (typeof comment.get(CommentField.deletedAt) === 'number') {
    throw new ParleyError(ErrorCode.CommentDeleted, `comment ${commentId} is deleted`)
  }
  return comment
}

function bodyOf(comment: Y.Map<unknown>): Y.Text {
  const body = comment.get(CommentField.body)
  if (!(body instanceof Y.Text)) throw new ParleyError(ErrorCode.InvalidRequest, 'the comment has no body')
  return body
}

export function editLive(ctx: WriteContext, threadId: string, commentId: string, body: BodyInput): void {
  liveComment(ctx.doc, threadId, commentId)
  editComment(ctx, threadId, commentId, body)
}

/** The author deletes their own comment; a moderator deletes anyone's. Returns the author. */
export function deleteLive(ctx: WriteContext, role: Role, threadId: string, commentId: string): { authorId: string } {
  const comment = liveComment(ctx.doc, threadId, commentId)
  const authorId = String(comment.get(CommentField.authorId))
  if (authorId === ctx.userId) {
    deleteComment(ctx, threadId, commentId)
    return { authorId }
  }
  if (!roleAtLeast(role, 'moderate')) throw new ParleyError(ErrorCode.WriteRejected, `comment ${commentId} belongs to another user`)
  const text = bodyOf(comment)
  ctx.doc.transact(() => {
    comment.set(CommentField.deletedAt, (ctx.now ?? Date.now)())
    text.delete(0, text.length)
  }, LOCAL_WRITE)
  return { authorId }
}

export function reactLive(ctx: WriteContext, threadId: string, commentId: string, emoji: string, on: boolean): void {
  liveComment(ctx.doc, threadId, commentId)
  if (on) react(ctx, threadId, commentId, emoji)
  else unreact(ctx, threadId, commentId, emoji)
}

/** What a hide took out of the document: the words, and the moderation now set. */
export interface Hidden {
  authorId: string
  runs: BodyRun[]
  moderation: Moderation
  /** False when the comment was hidden already (nothing changed). */
  changed: boolean
}

/** Sets `moderation` and empties the body in one transaction; returns the words it removed. */
export function hideComment(ctx: WriteContext, threadId: string, commentId: string, reason: string): Hidden {
  const comment = liveComment(ctx.doc, threadId, commentId)
  const authorId = String(comment.get(CommentField.authorId))
  const already = readModeration(comment.get(CommentField.moderation))
  if (already) return { authorId, runs: [], moderation: already, changed: false }
  const text = bodyOf(comment)
  const runs = readRuns(text)
  const moderation: Moderation = { hiddenBy: ctx.userId, reason, at: (ctx.now ?? Date.now)() }
  ctx.doc.transact(() => {
    comment.set(CommentField.moderation, { ...moderation })
    text.delete(0, text.length)
  }, LOCAL_WRITE)
  return { authorId, runs, moderation, changed: true }
}

/**
 * Writes the kept words back and clears `moderation` in the same transaction (or the server would
 * empty them again). The words are the author's: the server writes them as the author.
 */
export function unhideComment(ctx: WriteContext, threadId: string, commentId: string, runs: ReadonlyArray<BodyRun>): { changed: boolean } {
  const comment = liveComment(ctx.doc, threadId, commentId)
  if (readModeration(comment.get(CommentField.moderation)) === null) return { changed: false }
  const text = bodyOf(comment)
  ctx.doc.transact(() => {
    comment.delete(CommentField.moderation)
    text.delete(0, text.length)
    writeRuns(text, runs)
  }, LOCAL_WRITE)
  return { changed: true }
}
