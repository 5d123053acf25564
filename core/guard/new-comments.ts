/**
 * Rules for the comments an update creates, taken together: ids unique in the whole document,
 * a place after the thread's first comment, and a `parentId` that names a comment of the same
 * thread (existing, or new in the same update) without a cycle.
 */
import * as Y from 'yjs'
import { CommentField } from '../../protocol/index.ts'
import { commentIdsOf } from './comment-ids.ts'
import type { Places } from './places.ts'
import type { Facts, RuleResult } from './rules.ts'
import type { TypeKey, UpdateIndex } from './update-index.ts'

interface NewComment {
  item: Y.Item
  /** The `comments` array it goes into: an existing type, or a new one in the update. */
  array: TypeKey
  id: unknown
  parentId: unknown
}

function newComments(index: UpdateIndex, places: Places, facts: Facts): NewComment[] {
  const found: NewComment[] = []
  for (const item of index.freshItems) {
    if (!(item.content instanceof Y.ContentType) || places.of(item, index)?.role !== 'comment') continue
    found.push({ item, array: index.placementOf(item).parent, id: facts.field(item, CommentField.id), parentId: facts.field(item, CommentField.parentId) })
  }
  return found
}

/** Whether an existing `comments` array holds a comment with this id (the slow path, for legacy documents that repeat ids). */
function arrayHolds(array: Y.AbstractType<unknown>, id: string): boolean {
  for (let item = array._start; item !== null; item = item.right) {
    if (item.deleted || !(item.content instanceof Y.ContentType)) continue
    const idItem = item.content.type._map.get(CommentField.id)
    if (idItem !== undefined && !idItem.deleted && idItem.content.getContent().at(-1) === id) return true
  }
  return false
}

function uniqueIds(comments: NewComment[], doc: Y.Doc): RuleResult {
  const existing = commentIdsOf(doc)
  const seen = new Set<string>()
  for (const { id } of comments) {
    if (typeof id !== 'string') continue // a missing or malformed id is refused by the field rules
    if (existing.has(id)) return `comment id "${id}" is already used in this document`
    if (seen.has(id)) return `comment id "${id}" is used twice in this update`
    seen.add(id)
  }
  return null
}

/**
 * A thread's first comment is created with the thread: any other new comment has a left
 * neighbour (its origin), so it lands after the first one. Yjs never places an item left of its
 * origin. A `comments` array that holds nothing yet may get one first comment.
 */
function afterFirst(comments: NewComment[]): RuleResult {
  const firsts = new Set<TypeKey>()
  for (const { item, array } of comments) {
    if (item.origin !== null) continue
    const holdsSome = array instanceof Y.AbstractType && array._start !== null
    if (holdsSome) return "a new comment goes after the thread's first comment"
    if (firsts.has(array)) return 'a thread has only one first comment'
    firsts.add(array)
  }
  return null
}

function parentsInThread(comments: NewComment[], doc: Y.Doc): RuleResult {
  const existing = commentIdsOf(doc)
  const fresh = new Map<string, NewComment>()
  for (const comment of comments) if (typeof comment.id === 'string') fresh.set(comment.id, comment)
  for (const { id, array, parentId } of comments) {
    if (parentId === undefined || typeof parentId !== 'string') continue // the field rules refuse a non-id
    if (parentId === id) return 'a comment cannot reply to itself (parentId is its own id)'
    const newParent = fresh.get(parentId)
    if (newParent !== undefined && newParent.array === array) continue
    if (array instanceof Y.AbstractType && (existing.arrayOf(parentId) === array || arrayHolds(array, parentId))) continue
    return `parentId "${parentId}" names no comment of this thread`
  }
  // Replies among new comments: following parentId must end at an existing comment or a root.
  const settled = new Set<NewComment>()
  for (const start of fresh.values()) {
    const path = new Set<NewComment>()
    for (
      let at: NewComment | undefined = start;
      at !== undefined && !settled.has(at);
      at = typeof at.parentId === 'string' ? fresh.get(at.parentId) : undefined
    ) {
      if (path.has(at)) return 'parentId of the new comments forms a cycle'
      path.add(at)
    }
    for (const comment of path) settled.add(comment)
  }
  return null
}

/** Why the comments this update creates are refused, or null. */
export function newCommentsRefusal(doc: Y.Doc, index: UpdateIndex, places: Places, facts: Facts): RuleResult {
  const comments = newComments(index, places, facts)
  if (comments.length === 0) return null
  return uniqueIds(comments, doc) ?? afterFirst(comments) ?? parentsInThread(comments, doc)
}
