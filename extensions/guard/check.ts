/**
 * `checkUpdate`: decides whether an update from one user may enter a document, before it is
 * applied, stored or broadcast. Pure: it reads the document and the update, and changes neither.
 */
import * as Y from 'yjs'
import { CommentField, ErrorCode, ID_PATTERN, MAX_COMMENT_LENGTH, THREADS, ThreadField, type ErrorCode as Code } from '../../protocol/index.ts'
import { childType, type DocumentKind, type Place, type Places } from './places.ts'
import { bodyDeleteAllowed, bodyInsertAllowed, mayWriteKey, valueAllowed, type Actor, type Facts } from './rules.ts'
import { UnknownDependency, UpdateIndex, normalize, pendingDeletionCovers, type TypeKey } from './update-index.ts'

export type GuardVerdict = { ok: true; clients: Set<number> } | { ok: false; code: Code; reason: string }

export interface GuardInput {
  doc: Y.Doc
  kind: DocumentKind
  actor: Actor
  places: Places
  /** The user a client id is bound to, if any. */
  ownerOf(client: number): string | undefined
  /** Client ids refused after an earlier rejection. */
  isBlocked(client: number): boolean
}

class Rejection extends Error {
  readonly code: Code
  constructor(code: Code, reason: string) {
    super(reason)
    this.code = code
  }
}

function reject(reason: string, code: Code = ErrorCode.WriteRejected): never {
  throw new Rejection(code, reason)
}

function plainValue(content: Y.Item['content']): unknown {
  if (content instanceof Y.ContentAny || content instanceof Y.ContentJSON) return content.arr.length === 1 ? content.arr[0] : content.arr
  if (content instanceof Y.ContentType) return content.type
  return content
}

class Checker {
  private readonly input: GuardInput
  private readonly index: UpdateIndex
  private readonly facts: Facts
  /** Characters inserted and deleted per comment body. */
  private readonly bodyChanges = new Map<TypeKey, { inserted: number; deleted: number }>()

  constructor(input: GuardInput, index: UpdateIndex) {
    this.input = input
    this.index = index
    this.facts = {
      actor: input.actor,
      isFresh: (type) => type instanceof Y.Item,
      field: (type, key) => {
        const written = index.entries(type, key).at(-1)
        if (written) return written.content instanceof Y.ContentDeleted ? undefined : plainValue(written.content)
        if (type instanceof Y.Map) return type.get(key) as unknown
        return undefined
      },
      fieldBefore: (type, key) => (type instanceof Y.Map ? (type.get(key) as unknown) : undefined),
    }
  }

  private placeOf(type: TypeKey): Place {
    return this.input.places.of(type, this.index) ?? reject('a write outside the document schema')
  }

  private body(type: TypeKey): { inserted: number; deleted: number } {
    let change = this.bodyChanges.get(type)
    if (!change) this.bodyChanges.set(type, (change = { inserted: 0, deleted: 0 }))
    return change
  }

  /** Checks who writes under which client id; returns the client ids to bind to the sender. */
  checkClients(): Set<number> {
    const { actor, ownerOf, isBlocked } = this.input
    const integrating = this.index.integratingClients()
    for (const client of integrating) {
      if (isBlocked(client)) reject('this client id was refused earlier; rebuild the document under a new client id')
      const owner = ownerOf(client)
      if (owner !== undefined && owner !== actor.userId) reject(`client id ${client} belongs to another user`)
    }
    // Structs that wait for others stay pending, unchecked until they integrate. The sender's may
    // only wait for the sender's own structs, never for another user's. Another user's pending
    // structs come back in every client's sync step 2 (the server's own step 2 includes them);
    // only their owner's structs can let them integrate, so they are left alone.
    const own = (client: number) => integrating.has(client) || ownerOf(client) === actor.userId
    for (const struct of this.index.deferred) {
      const owner = ownerOf(struct.id.client)
      if (owner !== undefined && owner !== actor.userId) continue
      for (const id of this.index.missingFor(struct)) {
        if (!own(id.client) && ownerOf(id.client) === undefined && !this.index.clients().has(id.client)) {
          reject('the update depends on structs the server does not have; resync', ErrorCode.OutOfSync)
        }
        const depOwner = ownerOf(id.client)
        if (depOwner !== undefined && depOwner !== actor.userId) {
          reject('the update depends on another user’s structs the server does not have; resync', ErrorCode.OutOfSync)
        }
      }
    }
    return integrating
  }

  checkFreshItems(): void {
    for (const item of this.index.freshItems) {
      const placement = this.index.placementOf(item)
      const parent = this.placeOf(placement.parent)
      const { content } = item
      if (parent.role === 'body') {
        if (placement.key !== null) reject('a comment body has no keys')
        const refusal = bodyInsertAllowed(parent, content, this.facts, this.index.deletesFresh(item))
        if (refusal) reject(refusal)
        if (content instanceof Y.ContentString) this.body(parent.self).inserted += content.str.length
        continue
      }
      const expected = childType(parent.role, placement.key)
      if (content instanceof Y.ContentType) {
        // A nested type must be the one the schema puts there; its own place checks the rest.
        if (!expected || !(content.type instanceof expected.type)) reject(`a ${content.type.constructor.name} is not allowed in ${parent.role}`)
      } else if (expected && !(content instanceof Y.ContentDeleted)) {
        reject(`${parent.role}.${placement.key ?? '[]'} must be a ${expected.type.name}`)
      }
      if (placement.key === null) {
        if (parent.role !== 'comments' || !(content instanceof Y.ContentType)) reject(`elements cannot be added to ${parent.role}`)
        continue
      }
      const refusal = mayWriteKey(parent, placement.key, this.facts)
      if (refusal) reject(refusal)
      if (parent.role === 'threads') {
        if (!ID_PATTERN.test(placement.key)) reject('a thread id must be an id')
        const existing = this.input.doc.share.get(THREADS)?._map.get(placement.key)
        if (existing !== undefined && !existing.deleted) reject(`thread ${placement.key} exists already`)
      }
      if (!expected && !(content instanceof Y.ContentDeleted)) {
        const refusalValue = valueAllowed(parent, placement.key, plainValue(content), this.facts)
        if (refusalValue) reject(refusalValue)
      }
    }
  }

  checkDeletes(clients: Set<number>): void {
    const unknown = this.index.forEachDeletedExisting((item, length) => {
      const parentType = normalize(item.parent as Y.AbstractType<unknown>)
      const place = this.placeOf(parentType)
      if (place.role === 'body') {
        const refusal = bodyDeleteAllowed(place, this.facts)
        if (refusal) reject(refusal)
        if (item.content instanceof Y.ContentString && item.countable) this.body(place.self).deleted += length
        return
      }
      const key = item.parentSub
      if (key === null) reject(`elements cannot be removed from ${place.role}`)
      // An overwrite: the new entry is checked as a write of that key (unless the update removes it too).
      if (this.index.entries(parentType, key).some((entry) => !this.index.deletesFresh(entry))) return
      const refusal = mayWriteKey(place, key, this.facts) ?? removalAllowed(place, key)
      if (refusal) {
        // The replacement may be among the structs still waiting for their dependencies.
        if (this.index.deferredReplaces(item)) reject(`${refusal}; its replacement is not here yet, resync`, ErrorCode.OutOfSync)
        reject(refusal)
      }
    })
    // Deletions of structs nobody has yet stay pending in Yjs and apply when the structs arrive:
    // only of the sender's own structs, or ones the server already holds pending (every client's
    // sync step 2 sends those back).
    for (const range of unknown) {
      if (clients.has(range.client) || this.input.ownerOf(range.client) === this.input.actor.userId) continue
      if (!pendingDeletionCovers(this.input.doc, range)) reject('the update deletes structs the server does not have; resync', ErrorCode.OutOfSync)
    }
  }

  checkNewObjects(): void {
    for (const item of this.index.freshItems) {
      if (!(item.content instanceof Y.ContentType)) continue
      const place = this.input.places.of(item, this.index)
      if (place?.role === 'thread') this.requireFields(item, THREAD_FIELDS, 'thread')
      if (place?.role === 'comment') this.requireFields(item, COMMENT_FIELDS, 'comment')
      if (place?.role === 'thread' && this.facts.field(item, ThreadField.id) !== this.index.placementOf(item).key) reject('a thread id must match its key')
    }
    const { userId } = this.input.actor
    for (const item of this.index.freshItems) {
      const place = item.content instanceof Y.ContentType ? this.input.places.of(item, this.index) : null
      if (place?.role === 'thread' && this.facts.field(item, ThreadField.createdBy) !== userId) reject('createdBy must be the user')
      if (place?.role === 'comment' && this.facts.field(item, CommentField.authorId) !== userId) reject('authorId must be the user')
    }
  }

  private requireFields(item: Y.Item, fields: readonly string[], what: string): void {
    for (const field of fields) {
      if (this.index.entries(item, field).length === 0) reject(`a new ${what} needs "${field}", created with it`)
    }
  }

  checkLengths(): void {
    for (const [type, change] of this.bodyChanges) {
      const current = type instanceof Y.Text ? type.length : 0
      if (current - change.deleted + change.inserted > MAX_COMMENT_LENGTH) {
        reject(`a comment body is at most ${MAX_COMMENT_LENGTH} characters`, ErrorCode.TooLarge)
      }
    }
  }
}

const THREAD_FIELDS = [ThreadField.id, ThreadField.createdBy, ThreadField.createdAt, ThreadField.comments, ThreadField.subscribers, ThreadField.readBy, ThreadField.metadata]
const COMMENT_FIELDS = [CommentField.id, CommentField.authorId, CommentField.createdAt, CommentField.body, CommentField.reactions]

/** Removing a key without writing a new value: only entries that may disappear. */
function removalAllowed(place: Place, key: string): string | null {
  switch (place.role) {
    case 'thread':
      return key === ThreadField.resolvedBy || key === ThreadField.resolvedAt ? null : `thread field "${key}" cannot be removed`
    case 'comment':
      return key === CommentField.editedAt || key === CommentField.moderation ? null : `comment field "${key}" cannot be removed`
    case 'notification':
      return `notification field "${key}" cannot be removed`
    case 'threads':
      return 'threads cannot be removed'
    default:
      return null
  }
}

export function checkUpdate(input: GuardInput, update: Uint8Array): GuardVerdict {
  try {
    const index = new UpdateIndex(input.doc, update)
    const checker = new Checker(input, index)
    const clients = checker.checkClients()
    checker.checkFreshItems()
    checker.checkNewObjects()
    checker.checkDeletes(clients)
    checker.checkLengths()
    return { ok: true, clients }
  } catch (error) {
    if (error instanceof Rejection) return { ok: false, code: error.code, reason: error.message }
    if (error instanceof UnknownDependency) return { ok: false, code: ErrorCode.OutOfSync, reason: `${error.message}; resync` }
    return { ok: false, code: ErrorCode.WriteRejected, reason: `the update cannot be decoded: ${error instanceof Error ? error.message : String(error)}` }
  }
}
