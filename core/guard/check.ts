/**
 * `checkUpdate`: decides whether an update from one user may enter a document, before it is
 * applied, stored or broadcast. Pure: it reads the document and the update, and changes neither.
 */
import * as Y from 'yjs'
import {
  CommentField,
  ErrorCode,
  ID_PATTERN,
  MAX_COMMENT_LENGTH,
  THREADS,
  ThreadField,
  err,
  ok,
  type ErrorCode as Code,
  type Result,
} from '../../protocol/index.ts'
import { metadataCountRefusal, metadataEntryRefusal } from './metadata.ts'
import { newCommentsRefusal } from './new-comments.ts'
import { childType, isExactly, type DocumentKind, type Place, type Places } from './places.ts'
import { bodyDeleteAllowed, bodyInsertAllowed, mayWriteKey, valueAllowed, type Actor, type Facts } from './rules.ts'
import { DEFAULT_BUDGET, scanUpdate } from './budget.ts'
import { blockableClients, checkClients as checkClientIds } from './client-check.ts'
import * as limits from './limits.ts'
import { tooManyConcurrentInserts } from './concurrent-inserts.ts'
import { defersWriteOf } from './deferred-writes.ts'
import { deletionHeldOrDropped } from './refused-pending.ts'
import { MalformedUpdate, UnknownDependency, UpdateIndex, documentStructs, normalize, type TypeKey } from './update-index.ts'

/** What an accepted update does. */
export interface GuardAccepted {
  /** Client ids to bind to the sender. */
  clients: Set<number>
  /** Those of them nobody owned before (they count against the sender's quota of new client ids). */
  introduced: number[]
  /** Structs the update adds to the document (integrating or stored pending). */
  structs: number
  /** Whether some of it will be stored pending (structs or deletions waiting for structs the server lacks). */
  defers: boolean
}

/** Why an update is refused. */
export interface GuardRefusal {
  code: Code
  reason: string
  /** Client ids this refusal may block: the sender's own and new ones, never another user's. */
  clients: number[]
}

export type GuardVerdict = Result<GuardAccepted, GuardRefusal>

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

  /** Checks who writes under which client id (client-check.ts); returns what to bind to the sender. */
  checkClients(): { bind: Set<number>; introduced: number[]; deferred: number } {
    const verdict = checkClientIds(this.input, this.index)
    if (!verdict.ok) return reject(verdict.error.reason, verdict.error.code)
    return verdict.value
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
        if (!expected) reject(`a ${content.type.constructor.name} is not allowed in ${parent.role}`)
        if (!isExactly(content.type, expected.type))
          reject(`${parent.role}.${placement.key ?? '[]'} must be exactly a ${expected.type.name}, not a ${content.type.constructor.name}`)
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
        const value = plainValue(content)
        // Metadata refusals carry their own code: a size cap is too_large.
        const metadataRefusal = parent.role === 'metadata' ? metadataEntryRefusal(placement.key, value) : null
        if (metadataRefusal) reject(metadataRefusal.reason, metadataRefusal.code)
        const refusalValue = valueAllowed(parent, placement.key, value, this.facts)
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
        if (refusal) {
          // A moderator's hide whose deletedAt or moderation waits for an earlier update of theirs:
          // its deletion of the words applies now, its permission not yet. Resync sends them together.
          if (place.comment !== null && defersWriteOf(this.index, place.comment, HIDING_FIELDS))
            reject(`${refusal}; the update that hides it is not here yet, resync`, ErrorCode.OutOfSync)
          reject(refusal)
        }
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
        if (this.index.deferredReplaces(item) || defersWriteOf(this.index, parentType, [key]))
          reject(`${refusal}; its replacement is not here yet, resync`, ErrorCode.OutOfSync)
        reject(refusal)
      }
    })
    // Deletions of structs nobody has yet stay pending in Yjs and apply when the structs arrive:
    // only of the sender's own structs, or ones the server already holds pending or held until
    // their client id was refused (every client's sync step 2 sends those back).
    for (const range of unknown) {
      if (clients.has(range.client) || this.input.ownerOf(range.client) === this.input.actor.userId) continue
      if (!deletionHeldOrDropped(this.input.doc, range)) reject('the update deletes structs the server does not have; resync', ErrorCode.OutOfSync)
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
    const commentsRefusal = newCommentsRefusal(this.input.doc, this.index, this.input.places, this.facts)
    if (commentsRefusal) reject(commentsRefusal)
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
    const metadataMaps = new Set<TypeKey>()
    for (const item of this.index.freshItems) {
      const { parent, key } = this.index.placementOf(item)
      if (key !== null && this.input.places.of(parent, this.index)?.role === 'metadata') metadataMaps.add(parent)
    }
    for (const metadata of metadataMaps) {
      const refusal = metadataCountRefusal(metadata, this.index)
      if (refusal) reject(refusal.reason, refusal.code)
    }
  }
}

/** The comment fields that let a moderator remove its words. */
const HIDING_FIELDS: readonly string[] = [CommentField.deletedAt, CommentField.moderation]
const THREAD_FIELDS = [
  ThreadField.id,
  ThreadField.createdBy,
  ThreadField.createdAt,
  ThreadField.comments,
  ThreadField.subscribers,
  ThreadField.readBy,
  ThreadField.metadata,
]
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

/**
 * Checks an update from `input.actor`. First its work budget, on its bytes (budget.ts), then the
 * client ids it writes under, then its content. A refusal names the client ids it may block.
 */
export function checkUpdate(input: GuardInput, update: Uint8Array): GuardVerdict {
  const scan = scanUpdate(update, DEFAULT_BUDGET, documentStructs(input.doc))
  if (!scan.ok) {
    return err({
      code: scan.error.overBudget ? ErrorCode.TooLarge : ErrorCode.WriteRejected,
      reason: scan.error.reason,
      clients: blockableClients(input, scan.error.clients),
    })
  }
  let blockable = blockableClients(input, scan.value.clients)
  try {
    const index = new UpdateIndex(input.doc, update)
    blockable = blockableClients(input, index.clients())
    const overwritten = index.concurrentKeyWrites(limits.MAX_CONCURRENT_KEY_WRITES)
    if (overwritten !== null) {
      reject(
        `an update may write one map key at most ${limits.MAX_CONCURRENT_KEY_WRITES} times from the same origin ("${overwritten}"; budget exceeded)`,
        ErrorCode.TooLarge,
      )
    }
    if (tooManyConcurrentInserts(index, limits.MAX_CONCURRENT_INSERTS)) {
      reject(
        `an update may insert at most ${limits.MAX_CONCURRENT_INSERTS} items at one place of a sequence (the same origins; budget exceeded)`,
        ErrorCode.TooLarge,
      )
    }
    const checker = new Checker(input, index)
    const { bind, introduced, deferred } = checker.checkClients()
    checker.checkFreshItems()
    checker.checkNewObjects()
    checker.checkDeletes(bind)
    checker.checkLengths()
    const structs = index.freshItems.length + index.gcs.length + deferred
    // New pending state: the sender's deferred structs, or deletions the document does not hold pending yet.
    const defers = deferred > 0 || index.unknownDeletions().some((range) => !deletionHeldOrDropped(input.doc, range))
    return ok({ clients: bind, introduced, structs, defers })
  } catch (error) {
    if (error instanceof Rejection) return err({ code: error.code, reason: error.message, clients: blockable })
    if (error instanceof UnknownDependency) return err({ code: ErrorCode.OutOfSync, reason: `${error.message}; resync`, clients: [] })
    if (error instanceof MalformedUpdate) return err({ code: ErrorCode.WriteRejected, reason: `malformed update: ${error.message}`, clients: blockable })
    return err({
      code: ErrorCode.WriteRejected,
      reason: `the update cannot be decoded: ${error instanceof Error ? error.message : String(error)}`,
      clients: blockable,
    })
  }
}
