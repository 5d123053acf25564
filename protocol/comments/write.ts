/**
 * Writes to a comments document, as one user. Every nested type is created together with its
 * parent in one transaction, so that two offline clients never create the same nested type twice.
 * These functions check what a client can check locally; the server's write guard has the last word.
 */
import * as Y from 'yjs'
import { ErrorCode, ParleyError } from '../errors.ts'
import { MAX_EMOJI_LENGTH } from '../limits.ts'
import { isValidId } from '../names.ts'
import { bodyText, normalizeBody, writeRuns } from './body.ts'
import { CommentField, FOLLOWERS, REACTION_SEPARATOR, THREADS, ThreadField, type BodyInput } from './fields.ts'

/** Transaction origin for writes made through these functions. */
export const LOCAL_WRITE = Symbol('parley.local-write')

export interface WriteContext {
  doc: Y.Doc
  userId: string
  now?: () => number
  newId?: () => string
}

function clock(ctx: WriteContext): number {
  return (ctx.now ?? Date.now)()
}

function freshId(ctx: WriteContext): string {
  return (ctx.newId ?? (() => globalThis.crypto.randomUUID()))()
}

function notFound(what: string): never {
  throw new ParleyError(ErrorCode.NotFound, `${what} does not exist`)
}

export function threadsMap(doc: Y.Doc): Y.Map<Y.Map<unknown>> {
  return doc.getMap(THREADS)
}

export function followersMap(doc: Y.Doc): Y.Map<string> {
  return doc.getMap(FOLLOWERS)
}

export function getThread(doc: Y.Doc, threadId: string): Y.Map<unknown> {
  const thread = threadsMap(doc).get(threadId)
  return thread instanceof Y.Map ? thread : notFound(`thread ${threadId}`)
}

function nested<T>(map: Y.Map<unknown>, field: string, type: abstract new (...args: never[]) => T, what: string): T {
  const value = map.get(field)
  if (value instanceof type) return value
  throw new ParleyError(ErrorCode.InvalidRequest, `${what} has no ${field}`)
}

export function commentsOf(thread: Y.Map<unknown>): Y.Array<Y.Map<unknown>> {
  return nested(thread, ThreadField.comments, Y.Array, 'thread') as Y.Array<Y.Map<unknown>>
}

export function findComment(thread: Y.Map<unknown>, commentId: string): Y.Map<unknown> {
  for (const comment of commentsOf(thread)) {
    if (comment instanceof Y.Map && comment.get(CommentField.id) === commentId) return comment
  }
  return notFound(`comment ${commentId}`)
}

function newComment(ctx: WriteContext, body: BodyInput, parentId: string | undefined): { comment: Y.Map<unknown>; id: string } {
  const runs = normalizeBody(body)
  const id = freshId(ctx)
  const comment = new Y.Map<unknown>()
  comment.set(CommentField.id, id)
  comment.set(CommentField.authorId, ctx.userId)
  comment.set(CommentField.createdAt, clock(ctx))
  comment.set(CommentField.body, bodyText(runs))
  comment.set(CommentField.reactions, new Y.Map())
  if (parentId !== undefined) comment.set(CommentField.parentId, parentId)
  return { comment, id }
}

function ownComment(ctx: WriteContext, threadId: string, commentId: string): Y.Map<unknown> {
  const comment = findComment(getThread(ctx.doc, threadId), commentId)
  if (comment.get(CommentField.authorId) !== ctx.userId) {
    throw new ParleyError(ErrorCode.WriteRejected, `comment ${commentId} belongs to another user`)
  }
  if (comment.get(CommentField.deletedAt) !== undefined && comment.get(CommentField.deletedAt) !== null) {
    throw new ParleyError(ErrorCode.WriteRejected, `comment ${commentId} is deleted`)
  }
  return comment
}

export function createThread(ctx: WriteContext, body: BodyInput, metadata: Record<string, unknown> = {}): { threadId: string; commentId: string } {
  const threadId = freshId(ctx)
  const { comment, id: commentId } = newComment(ctx, body, undefined)
  ctx.doc.transact(() => {
    const thread = new Y.Map<unknown>()
    thread.set(ThreadField.id, threadId)
    thread.set(ThreadField.createdBy, ctx.userId)
    thread.set(ThreadField.createdAt, clock(ctx))
    const comments = new Y.Array<Y.Map<unknown>>()
    comments.push([comment])
    thread.set(ThreadField.comments, comments)
    thread.set(ThreadField.subscribers, new Y.Map())
    thread.set(ThreadField.readBy, new Y.Map())
    thread.set(ThreadField.metadata, new Y.Map(Object.entries(metadata)))
    threadsMap(ctx.doc).set(threadId, thread)
  }, LOCAL_WRITE)
  return { threadId, commentId }
}

export function reply(ctx: WriteContext, threadId: string, body: BodyInput, parentId?: string): { commentId: string } {
  const thread = getThread(ctx.doc, threadId)
  if (parentId !== undefined) findComment(thread, parentId)
  const { comment, id } = newComment(ctx, body, parentId)
  ctx.doc.transact(() => commentsOf(thread).push([comment]), LOCAL_WRITE)
  return { commentId: id }
}

export function editComment(ctx: WriteContext, threadId: string, commentId: string, body: BodyInput): void {
  const comment = ownComment(ctx, threadId, commentId)
  const runs = normalizeBody(body)
  const text = nested(comment, CommentField.body, Y.Text, 'comment')
  ctx.doc.transact(() => {
    text.delete(0, text.length)
    writeRuns(text, runs)
    comment.set(CommentField.editedAt, clock(ctx))
  }, LOCAL_WRITE)
}

/** Soft delete: `deletedAt` is authoritative for every reader; the body is emptied. */
export function deleteComment(ctx: WriteContext, threadId: string, commentId: string): void {
  const comment = ownComment(ctx, threadId, commentId)
  const text = nested(comment, CommentField.body, Y.Text, 'comment')
  ctx.doc.transact(() => {
    comment.set(CommentField.deletedAt, clock(ctx))
    text.delete(0, text.length)
  }, LOCAL_WRITE)
}

export function reactionKey(emoji: string, userId: string): string {
  return `${emoji}${REACTION_SEPARATOR}${userId}`
}

function checkEmoji(emoji: string): void {
  if (emoji.length === 0 || emoji.length > MAX_EMOJI_LENGTH || emoji.includes(REACTION_SEPARATOR)) {
    throw new ParleyError(ErrorCode.InvalidRequest, `"${emoji}" is not a reaction (1 to ${MAX_EMOJI_LENGTH} characters, no "|")`)
  }
}

function reactionsOf(ctx: WriteContext, threadId: string, commentId: string): Y.Map<number> {
  const comment = findComment(getThread(ctx.doc, threadId), commentId)
  return nested(comment, CommentField.reactions, Y.Map, 'comment') as Y.Map<number>
}

export function react(ctx: WriteContext, threadId: string, commentId: string, emoji: string): void {
  checkEmoji(emoji)
  const reactions = reactionsOf(ctx, threadId, commentId)
  const key = reactionKey(emoji, ctx.userId)
  if (reactions.has(key)) return
  ctx.doc.transact(() => reactions.set(key, clock(ctx)), LOCAL_WRITE)
}

export function unreact(ctx: WriteContext, threadId: string, commentId: string, emoji: string): void {
  checkEmoji(emoji)
  const reactions = reactionsOf(ctx, threadId, commentId)
  const key = reactionKey(emoji, ctx.userId)
  if (!reactions.has(key)) return
  ctx.doc.transact(() => reactions.delete(key), LOCAL_WRITE)
}

export function setResolved(ctx: WriteContext, threadId: string, resolved: boolean): void {
  const thread = getThread(ctx.doc, threadId)
  ctx.doc.transact(() => {
    thread.set(ThreadField.resolved, resolved)
    if (resolved) {
      thread.set(ThreadField.resolvedBy, ctx.userId)
      thread.set(ThreadField.resolvedAt, clock(ctx))
    } else {
      thread.delete(ThreadField.resolvedBy)
      thread.delete(ThreadField.resolvedAt)
    }
  }, LOCAL_WRITE)
}

export function markRead(ctx: WriteContext, threadId: string): void {
  const readBy = nested(getThread(ctx.doc, threadId), ThreadField.readBy, Y.Map, 'thread')
  ctx.doc.transact(() => readBy.set(ctx.userId, clock(ctx)), LOCAL_WRITE)
}

/** `true` subscribes the user to the thread, `false` mutes it. */
export function setSubscription(ctx: WriteContext, threadId: string, subscribed: boolean): void {
  const subscribers = nested(getThread(ctx.doc, threadId), ThreadField.subscribers, Y.Map, 'thread')
  ctx.doc.transact(() => subscribers.set(ctx.userId, subscribed), LOCAL_WRITE)
}

export function setFollowing(ctx: WriteContext, following: boolean): void {
  const followers = followersMap(ctx.doc)
  if (followers.get(ctx.userId) === 'host') {
    throw new ParleyError(ErrorCode.WriteRejected, 'hosts are set by moderators or the backend')
  }
  ctx.doc.transact(() => {
    if (following) followers.set(ctx.userId, 'follower')
    else followers.delete(ctx.userId)
  }, LOCAL_WRITE)
}

/** Checks an id given by the caller (thread, comment, subject). */
export function assertId(id: string, what: string): void {
  if (!isValidId(id)) throw new ParleyError(ErrorCode.InvalidRequest, `${what} "${id}" is not a valid id`)
}
