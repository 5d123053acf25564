/**
 * The comment ids of a comments document and the `comments` array holding each, for the write
 * guard's uniqueness and `parentId` rules. Built by one scan when first asked for, then kept
 * current from each applied transaction's new structs, so a new comment costs no scan of the
 * document. A transaction that removes a comment, a thread, a `comments` array or a comment's `id`
 * (which the guard refuses, but unchecked writers could do) marks the index for a rebuild.
 */
import * as Y from 'yjs'
import { CommentField, THREADS, ThreadField } from '../../protocol/index.ts'

type AnyType = Y.AbstractType<unknown>

function parentOf(item: Y.Item): AnyType | null {
  return item.parent instanceof Y.AbstractType ? (item.parent as AnyType) : null
}

/** Reads a map entry without going through typed accessors (works on untyped roots too). */
function entry(type: AnyType, key: string): unknown {
  const item = type._map.get(key)
  return item === undefined || item.deleted ? undefined : item.content.getContent().at(-1)
}

export class CommentIdIndex {
  private readonly doc: Y.Doc
  /** Comment id → the `comments` array it is in (the last one seen, should a legacy document repeat an id). */
  private readonly where = new Map<string, AnyType>()
  private stale = true

  constructor(doc: Y.Doc) {
    this.doc = doc
    doc.on('afterTransaction', (tr: Y.Transaction) => {
      try {
        this.follow(tr)
      } catch {
        this.stale = true
      }
    })
  }

  /** The `comments` array holding a comment with this id, if any. */
  arrayOf(id: string): AnyType | undefined {
    if (this.stale) this.rebuild()
    return this.where.get(id)
  }

  has(id: string): boolean {
    return this.arrayOf(id) !== undefined
  }

  private threads(): AnyType | undefined {
    return this.doc.share.get(THREADS) as AnyType | undefined
  }

  private isThread(type: AnyType | null): boolean {
    return type !== null && type instanceof Y.Map && type._item !== null && type._item.parentSub !== null && parentOf(type._item) === this.threads()
  }

  private isCommentsArray(type: AnyType | null): boolean {
    return (
      type !== null && type instanceof Y.Array && type._item !== null && type._item.parentSub === ThreadField.comments && this.isThread(parentOf(type._item))
    )
  }

  private isComment(type: AnyType | null): boolean {
    return type !== null && type instanceof Y.Map && type._item !== null && type._item.parentSub === null && this.isCommentsArray(parentOf(type._item))
  }

  private add(comment: AnyType, array: AnyType): void {
    const id = entry(comment, CommentField.id)
    if (typeof id === 'string') this.where.set(id, array)
  }

  private rebuild(): void {
    this.where.clear()
    this.stale = false
    const threads = this.threads()
    if (!threads) return
    for (const threadItem of threads._map.values()) {
      if (threadItem.deleted || !(threadItem.content instanceof Y.ContentType)) continue
      const comments = threadItem.content.type._map.get(ThreadField.comments)
      if (!comments || comments.deleted || !(comments.content instanceof Y.ContentType)) continue
      const array = comments.content.type as AnyType
      for (let item = array._start; item !== null; item = item.right) {
        if (!item.deleted && item.content instanceof Y.ContentType) this.add(item.content.type as AnyType, array)
      }
    }
  }

  /** Takes in a transaction's new comments and ids; a removal that matters marks the index stale. */
  private follow(tr: Y.Transaction): void {
    if (this.stale) return
    for (const [client, ranges] of tr.deleteSet.clients) {
      const structs = this.doc.store.clients.get(client) ?? []
      for (const range of ranges) {
        visit(structs, range.clock, range.clock + range.len, (item) => {
          const parent = parentOf(item)
          const key = item.parentSub
          if (
            parent === this.threads() ||
            this.isCommentsArray(parent) ||
            (key === ThreadField.comments && this.isThread(parent)) ||
            (key === CommentField.id && this.isComment(parent))
          ) {
            this.stale = true
          }
        })
        if (this.stale) return
      }
    }
    for (const [client, after] of tr.afterState) {
      const before = tr.beforeState.get(client) ?? 0
      if (after === before) continue
      visit(this.doc.store.clients.get(client) ?? [], before, after, (item) => {
        if (item.deleted) return
        const parent = parentOf(item)
        if (item.content instanceof Y.ContentType && this.isCommentsArray(parent) && parent !== null) this.add(item.content.type as AnyType, parent)
        else if (item.parentSub === CommentField.id && parent !== null && this.isComment(parent) && parent._item !== null) {
          const array = parentOf(parent._item)
          if (array !== null) this.add(parent, array)
        }
      })
    }
  }
}

/** Calls `f` for every item of one client's structs overlapping the clocks `[from, to)`, without splitting any. */
function visit(structs: Array<Y.Item | Y.GC>, from: number, to: number, f: (item: Y.Item) => void): void {
  const last = structs.at(-1)
  if (last === undefined || from >= last.id.clock + last.length) return
  for (let i = Y.findIndexSS(structs, from); i < structs.length; i++) {
    const struct = structs[i]!
    if (struct.id.clock >= to) break
    if (struct instanceof Y.Item) f(struct)
  }
}

const indexes = new WeakMap<Y.Doc, CommentIdIndex>()

/** The comment-id index of a document, created (and attached to it) on first use. */
export function commentIdsOf(doc: Y.Doc): CommentIdIndex {
  let index = indexes.get(doc)
  if (!index) indexes.set(doc, (index = new CommentIdIndex(doc)))
  return index
}
