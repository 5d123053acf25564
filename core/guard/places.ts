/**
 * Where a type sits in a Parley document: its role in the schema, and the thread and comment it
 * belongs to. Roles of types already in the document are cached (a type never moves).
 */
import * as Y from 'yjs'
import { CommentField, FOLLOWERS, THREADS, ThreadField } from '../../protocol/index.ts'
import type { TypeKey, UpdateIndex } from './update-index.ts'

export type PlaceRole =
  'threads' | 'followers' | 'thread' | 'comments' | 'comment' | 'body' | 'reactions' | 'subscribers' | 'readBy' | 'metadata' | 'notifications' | 'notification'

export interface Place {
  role: PlaceRole
  self: TypeKey
  thread: TypeKey | null
  comment: TypeKey | null
}

/** Root of the inbox document: notification id → notification map. */
export const NOTIFICATIONS = 'notifications'

export type DocumentKind = 'comments' | 'inbox'

const ROOTS: Record<DocumentKind, Record<string, PlaceRole>> = {
  comments: { [THREADS]: 'threads', [FOLLOWERS]: 'followers' },
  inbox: { [NOTIFICATIONS]: 'notifications' },
}

type YClass = typeof Y.Map | typeof Y.Array | typeof Y.Text

/**
 * Whether a type is exactly of the class, not a subclass: Y.XmlText extends Y.Text and Y.XmlHook
 * extends Y.Map, and neither belongs in a Parley document.
 */
export function isExactly(type: Y.AbstractType<unknown>, expected: YClass): boolean {
  return type.constructor === expected
}

/** The nested type a (parent role, key) must hold, or undefined for a plain value / not in the schema. */
export function childType(parent: PlaceRole, key: string | null): { role: PlaceRole; type: YClass } | undefined {
  switch (parent) {
    case 'threads':
      return key === null ? undefined : { role: 'thread', type: Y.Map }
    case 'thread':
      if (key === ThreadField.comments) return { role: 'comments', type: Y.Array }
      if (key === ThreadField.subscribers) return { role: 'subscribers', type: Y.Map }
      if (key === ThreadField.readBy) return { role: 'readBy', type: Y.Map }
      if (key === ThreadField.metadata) return { role: 'metadata', type: Y.Map }
      return undefined
    case 'comments':
      return key === null ? { role: 'comment', type: Y.Map } : undefined
    case 'comment':
      if (key === CommentField.body) return { role: 'body', type: Y.Text }
      if (key === CommentField.reactions) return { role: 'reactions', type: Y.Map }
      return undefined
    case 'notifications':
      return key === null ? undefined : { role: 'notification', type: Y.Map }
    default:
      return undefined
  }
}

function descend(parent: Place, role: PlaceRole, self: TypeKey): Place {
  return {
    role,
    self,
    thread: role === 'thread' ? self : parent.thread,
    comment: role === 'comment' ? self : parent.comment,
  }
}

/** Resolves places for one document kind; existing types' places are cached across updates. */
export class Places {
  private readonly kind: DocumentKind
  private readonly cache = new WeakMap<Y.AbstractType<unknown>, Place | null>()
  /** Places of an update's new items (decoded objects of that update alone: the same item is always in the same place). */
  private readonly fresh = new WeakMap<Y.Item, Place | null>()

  constructor(kind: DocumentKind) {
    this.kind = kind
  }

  /** The place of a type, or null when it is outside the schema. */
  of(key: TypeKey, index: UpdateIndex): Place | null {
    if (typeof key === 'string') {
      const role = ROOTS[this.kind][key]
      return role ? { role, self: key, thread: null, comment: null } : null
    }
    if (key instanceof Y.Item) {
      const known = this.fresh.get(key)
      if (known !== undefined) return known
      const placement = index.placementOf(key)
      const place = this.child(this.of(placement.parent, index), placement.key, key, key.content instanceof Y.ContentType ? key.content.type : null)
      this.fresh.set(key, place)
      return place
    }
    if (this.cache.has(key)) return this.cache.get(key) ?? null
    const item = key._item
    if (!item) return null
    const parent = item.parent as Y.AbstractType<unknown>
    const parentKey = parent._item === null ? Y.findRootTypeKey(parent) : parent
    const place = this.child(this.of(parentKey, index), item.parentSub, key, key)
    this.cache.set(key, place)
    return place
  }

  private child(parent: Place | null, key: string | null, self: TypeKey, type: Y.AbstractType<unknown> | null): Place | null {
    if (!parent || !type) return null
    const expected = childType(parent.role, key)
    if (!expected || !isExactly(type, expected.type)) return null
    return descend(parent, expected.role, self)
  }
}
