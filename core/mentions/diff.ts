/**
 * What one transaction did to a comments document, read from the transaction itself (the types
 * it changed and their changed keys), never by rescanning the document: comments created, bodies
 * changed, comments edited, deleted or hidden, reactions added or removed, threads resolved or reopened.
 */
import * as Y from 'yjs'
import { CommentField, THREADS, ThreadField } from '../../protocol/index.ts'

export interface CommentTouch {
  thread: Y.Map<unknown>
  comment: Y.Map<unknown>
  created: boolean
  bodyChanged: boolean
  deleted: boolean
  edited: boolean
  /** A moderator set `moderation` (hid it). */
  hidden: boolean
}

export interface ReactionTouch {
  thread: Y.Map<unknown>
  comment: Y.Map<unknown>
  key: string
  added: boolean
}

export interface TransactionChanges {
  comments: Map<Y.Map<unknown>, CommentTouch>
  reactions: ReactionTouch[]
  resolved: Array<Y.Map<unknown>>
  /** Threads whose `resolved` this transaction set to false (threads created by it excluded). */
  reopened?: Array<Y.Map<unknown>>
}

/** Any shared type, as far as these functions look at it. */
type AnyType = { _item: Y.Item | null }

function parentAndKey(type: AnyType): { parent: AnyType; key: string | null } | null {
  const item = type._item
  if (!item) return null
  return { parent: item.parent as AnyType, key: item.parentSub }
}

function isThreadsRoot(type: AnyType, doc: Y.Doc): boolean {
  return type._item === null && (type as unknown) === doc.share.get(THREADS)
}

/** The thread map, when `type` is a thread of the root `threads` map. */
function asThread(type: AnyType, doc: Y.Doc): Y.Map<unknown> | null {
  const up = parentAndKey(type)
  return type instanceof Y.Map && up !== null && up.key !== null && isThreadsRoot(up.parent, doc) ? (type as Y.Map<unknown>) : null
}

/** The thread, when `type` is a thread's comments array. */
function threadOfComments(type: AnyType, doc: Y.Doc): Y.Map<unknown> | null {
  const up = parentAndKey(type)
  return type instanceof Y.Array && up?.key === ThreadField.comments ? asThread(up.parent, doc) : null
}

/** Thread and comment, when `type` is a comment map. */
function asComment(type: AnyType, doc: Y.Doc): { thread: Y.Map<unknown>; comment: Y.Map<unknown> } | null {
  const up = parentAndKey(type)
  if (!(type instanceof Y.Map) || up === null || up.key !== null) return null
  const thread = threadOfComments(up.parent, doc)
  return thread ? { thread, comment: type as Y.Map<unknown> } : null
}

/** Thread and comment, when `type` is a comment's field (`body`, `reactions`) named `field`. */
function fieldOf(type: AnyType, doc: Y.Doc, field: string): { thread: Y.Map<unknown>; comment: Y.Map<unknown> } | null {
  const up = parentAndKey(type)
  return up?.key === field ? asComment(up.parent, doc) : null
}

/** Whether the item was created by this transaction. */
function isNew(tr: Y.Transaction, item: Y.Item): boolean {
  return item.id.clock >= (tr.beforeState.get(item.id.client) ?? 0)
}

function commentsOf(thread: Y.Map<unknown>): Y.Array<unknown> | null {
  const comments = thread.get(ThreadField.comments)
  return comments instanceof Y.Array ? comments : null
}

/**
 * What each transaction changed, read once: mention detection, search indexing and the feeds each
 * listen to `afterTransaction` and read the same transaction (none of them changes the result).
 */
const readings = new WeakMap<Y.Transaction, TransactionChanges>()

export function readTransaction(tr: Y.Transaction): TransactionChanges {
  let changes = readings.get(tr)
  if (!changes) {
    changes = readChanges(tr)
    readings.set(tr, changes)
  }
  return changes
}

function readChanges(tr: Y.Transaction): TransactionChanges {
  const doc = tr.doc
  const changes: TransactionChanges = { comments: new Map(), reactions: [], resolved: [] }
  const touch = (thread: Y.Map<unknown>, comment: Y.Map<unknown>): CommentTouch => {
    let entry = changes.comments.get(comment)
    if (!entry) {
      entry = { thread, comment, created: false, bodyChanged: false, deleted: false, edited: false, hidden: false }
      changes.comments.set(comment, entry)
    }
    return entry
  }
  const created = (thread: Y.Map<unknown>, comments: Y.Array<unknown>) => {
    for (let item = comments._start; item !== null; item = item.right) {
      if (item.deleted || !isNew(tr, item) || !(item.content instanceof Y.ContentType)) continue
      const comment = item.content.type
      if (comment instanceof Y.Map) touch(thread, comment as Y.Map<unknown>).created = true
    }
  }
  for (const [type, keys] of tr.changed) {
    if (isThreadsRoot(type, doc) && type instanceof Y.Map) {
      // New threads arrive whole: every comment in them is new.
      for (const key of keys) {
        const thread: unknown = key === null ? null : type.get(key)
        const comments = thread instanceof Y.Map && thread._item && isNew(tr, thread._item) ? commentsOf(thread as Y.Map<unknown>) : null
        if (comments) created(thread as Y.Map<unknown>, comments)
      }
      continue
    }
    const threadOfArray = threadOfComments(type, doc)
    if (threadOfArray && type instanceof Y.Array) {
      created(threadOfArray, type)
      continue
    }
    const thread = asThread(type, doc)
    if (thread) {
      if (keys.has(ThreadField.resolved) && thread.get(ThreadField.resolved) === true) changes.resolved.push(thread)
      if (keys.has(ThreadField.resolved) && thread.get(ThreadField.resolved) === false && thread._item && !isNew(tr, thread._item))
        (changes.reopened ??= []).push(thread)
      continue
    }
    const comment = asComment(type, doc)
    if (comment) {
      const entry = touch(comment.thread, comment.comment)
      if (keys.has(CommentField.deletedAt) && typeof comment.comment.get(CommentField.deletedAt) === 'number') entry.deleted = true
      if (keys.has(CommentField.editedAt)) entry.edited = true
      const moderation = comment.comment.get(CommentField.moderation)
      if (keys.has(CommentField.moderation) && typeof moderation === 'object' && moderation !== null) entry.hidden = true
      continue
    }
    const body = type instanceof Y.Text ? fieldOf(type, doc, CommentField.body) : null
    if (body) {
      touch(body.thread, body.comment).bodyChanged = true
      continue
    }
    const reactions = type instanceof Y.Map ? fieldOf(type, doc, CommentField.reactions) : null
    if (reactions && type instanceof Y.Map) {
      for (const key of keys) if (key !== null) changes.reactions.push({ ...reactions, key, added: type.has(key) })
    }
  }
  return changes
}
