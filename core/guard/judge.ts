/**
 * The write guard's decision on one update from a connection or a server-side write, without its
 * side effects (binding client ids, blocking them, counting bytes, telling the sender): what
 * `Guard.beforeSync` and `Guard.checkServerWrite` decide, in the order they decide it, cheapest
 * refusals first. Tests and bench/guard.ts measure exactly this.
 */
import * as Y from 'yjs'
import { ErrorCode, err, ok, type ErrorCode as Code, type Result } from '../../protocol/index.ts'
import { isEmptyUpdate, sharedUnseenPart } from '../documents/updates.ts'
import { DEFAULT_BUDGET, scanUpdate } from './budget.ts'
import { checkUpdate } from './check.ts'
import { blockableClients } from './client-check.ts'
import type { ClientRegistry } from './clients.ts'
import * as limits from './limits.ts'
import { pendingBytes, pendingOf } from './pending.ts'
import type { DocumentKind, Places } from './places.ts'
import type { Actor } from './rules.ts'
import { documentStructs } from './update-index.ts'

/** What the guard keeps per loaded document. */
export interface GuardedDocument {
  kind: DocumentKind
  places: Places
  clients: ClientRegistry
  /** Bytes of the document's stored updates (approximately). */
  bytes: number
}

export interface Caps {
  maxUpdateBytes: number
  maxDocumentBytes: number
  maxDocumentItems: number
  maxPendingBytes: number
}

export const DEFAULT_CAPS: Caps = {
  maxUpdateBytes: limits.MAX_UPDATE_BYTES,
  maxDocumentBytes: limits.MAX_DOCUMENT_BYTES,
  maxDocumentItems: limits.MAX_DOCUMENT_ITEMS,
  maxPendingBytes: limits.MAX_PENDING_BYTES,
}

/** What an accepted update does to the document and its owners. */
export interface JudgementAccepted {
  /** Bytes the document grows by (0 when the update carried nothing new). */
  bytes: number
  /** Client ids to bind to the sender, and those of them nobody owned before. */
  bind: Set<number>
  introduced: number[]
}

/** Why an update is refused. */
export interface JudgementRefusal {
  code: Code
  reason: string
  /** Client ids the refusal blocks: the sender's own and new ones, never another user's. */
  block: number[]
}

export type Judgement = Result<JudgementAccepted, JudgementRefusal>

const refused = (code: Code, reason: string, block: number[] = []): Judgement => err({ code, reason, block })

/** An update (or sync step 2) from a connection, as its payload arrived. */
export function judgeUpdate(doc: Y.Doc, guarded: GuardedDocument, actor: Actor, payload: Uint8Array, caps: Caps = DEFAULT_CAPS): Judgement {
  if (payload.byteLength > caps.maxUpdateBytes) return refused(ErrorCode.TooLarge, `an update is at most ${caps.maxUpdateBytes} bytes`)
  const clientInput = {
    doc,
    actor,
    ownerOf: (client: number) => guarded.clients.ownerOf(client),
    isBlocked: (client: number) => guarded.clients.isBlocked(client),
  }
  // The budget first, on the payload as Yjs will apply it, before anything decodes it in full.
  const scan = scanUpdate(payload, DEFAULT_BUDGET, documentStructs(doc))
  if (!scan.ok)
    return refused(scan.error.overBudget ? ErrorCode.TooLarge : ErrorCode.WriteRejected, scan.error.reason, blockableClients(clientInput, scan.error.clients))
  const update = sharedUnseenPart(doc, payload)
  // Every handshake ends with a sync step 2; one that carries nothing new needs no check.
  if (isEmptyUpdate(update)) return ok({ bytes: 0, bind: new Set(), introduced: [] })
  // The sender's own pending structs (waiting for this update, perhaps) integrate with it: check them together.
  const pending = pendingOf(doc, (client) => guarded.clients.ownerOf(client) === actor.userId)
  return judgeChecked(doc, guarded, actor, pending ? Y.mergeUpdates([pending, update]) : update, update.byteLength, caps)
}

/** A server-side write made for a user (REST): the same checks as a socket update from that user. */
export function judgeServerWrite(doc: Y.Doc, guarded: GuardedDocument, actor: Actor, update: Uint8Array, caps: Caps = DEFAULT_CAPS): Judgement {
  return judgeChecked(doc, guarded, actor, update, update.byteLength, caps)
}

function judgeChecked(doc: Y.Doc, guarded: GuardedDocument, actor: Actor, checked: Uint8Array, bytes: number, caps: Caps): Judgement {
  const verdict = checkUpdate(
    {
      doc,
      kind: guarded.kind,
      actor,
      places: guarded.places,
      ownerOf: (client) => guarded.clients.ownerOf(client),
      isBlocked: (client) => guarded.clients.isBlocked(client),
    },
    checked,
  )
  if (!verdict.ok) return refused(verdict.error.code, verdict.error.reason, verdict.error.clients)
  const block = [...verdict.value.clients]
  if (guarded.bytes + bytes > caps.maxDocumentBytes) return refused(ErrorCode.TooLarge, `the document would pass ${caps.maxDocumentBytes} bytes`, block)
  if (documentStructs(doc) + verdict.value.structs > caps.maxDocumentItems) {
    return refused(ErrorCode.TooLarge, `the document would pass ${caps.maxDocumentItems} items (structs)`, block)
  }
  if (verdict.value.defers && pendingBytes(doc) + bytes > caps.maxPendingBytes) {
    return refused(ErrorCode.OutOfSync, `too much of this document waits for changes the server does not have (at most ${caps.maxPendingBytes} bytes); resync`)
  }
  return ok({ bytes, bind: verdict.value.clients, introduced: verdict.value.introduced })
}
