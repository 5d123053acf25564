/**
 * Who writes under which client id. A Yjs client id belongs to the first user who writes with it
 * in a document; the document's own client id (the server's writes) belongs to nobody else.
 *
 * Structs that cannot integrate yet (deferred) are bound like integrating ones, so every struct
 * the document holds pending is attributable: it is checked as its owner when it integrates, and
 * only its owner's later structs can let it integrate. Deferred structs under someone else's
 * client id, or under a refused one, are refused, unless the server already holds exactly them
 * pending, or held them until their client id was refused (every client's sync step 2 sends back
 * what the server's sync step 2 gave it).
 */
import { ErrorCode, err, ok, type ErrorCode as Code, type Result } from '../../protocol/index.ts'
import * as limits from './limits.ts'
import { heldOrDropped } from './refused-pending.ts'
import type { Actor } from './rules.ts'
import type { UpdateIndex } from './update-index.ts'
import * as Y from 'yjs'

export interface ClientInput {
  doc: Y.Doc
  actor: Actor
  /** The user a client id is bound to, if any. */
  ownerOf(client: number): string | undefined
  /** Client ids refused after an earlier rejection. */
  isBlocked(client: number): boolean
}

/** Which client ids an accepted update writes under. */
export interface ClientsAccepted {
  /** Client ids to bind to the sender (integrating or deferred, the sender's or nobody's). */
  bind: Set<number>
  /** Those of them nobody owned yet. */
  introduced: number[]
  /** The sender's deferred structs (those that will be stored pending). */
  deferred: number
}

export type ClientVerdict = Result<ClientsAccepted, { code: Code; reason: string }>

const refuse = (reason: string, code: Code = ErrorCode.WriteRejected): ClientVerdict => err({ code, reason })

/** Whether the sender may write under a client id: theirs, or nobody's (and not the server's). */
function writable(input: ClientInput, client: number): boolean {
  if (client === input.doc.clientID) return false
  const owner = input.ownerOf(client)
  return owner === undefined || owner === input.actor.userId
}

/**
 * The client ids a refusal of this update may block: those the sender owns, and those nobody owns
 * that the update introduces (the document has no struct of theirs). Never another user's, nor a
 * client id the document already holds structs of (a refusal must not lock anyone else out).
 */
export function blockableClients(input: ClientInput, carried: Iterable<number>): number[] {
  return [...carried].filter((client) => {
    if (client === input.doc.clientID) return false
    const owner = input.ownerOf(client)
    return owner === input.actor.userId || (owner === undefined && Y.getState(input.doc.store, client) === 0)
  })
}

export function checkClients(input: ClientInput, index: UpdateIndex): ClientVerdict {
  const { actor, ownerOf, isBlocked } = input
  const foreign = (client: number) => (client === input.doc.clientID ? 'the server' : 'another user')
  const bind = new Set<number>()
  for (const client of index.integratingClients()) {
    if (!writable(input, client)) return refuse(`client id ${client} belongs to ${foreign(client)}`)
    if (isBlocked(client)) return refuse('this client id was refused earlier; rebuild the document under a new client id')
    bind.add(client)
  }
  let deferred = 0
  for (const struct of index.deferred) {
    const client = struct.id.client
    // A pending struct sent back unchanged (every sync step 2 hands out what the server holds
    // pending), also one dropped since its client id was refused: nothing new, and not the sender's.
    if ((!writable(input, client) || isBlocked(client)) && heldOrDropped(input.doc, struct)) continue
    if (!writable(input, client)) return refuse(`client id ${client} belongs to ${foreign(client)}`)
    if (isBlocked(client)) return refuse('this client id was refused earlier; rebuild the document under a new client id')
    bind.add(client)
    deferred++
  }
  // A deferred struct may only wait for the sender's own structs (those it owns, or brings in
  // this update): only the sender's later updates can then let it integrate, checked as the sender.
  const own = (client: number) => bind.has(client) || ownerOf(client) === actor.userId
  for (const struct of index.deferred) {
    if (!bind.has(struct.id.client)) continue
    for (const id of index.missingFor(struct)) {
      if (own(id.client)) continue
      if (ownerOf(id.client) === undefined) return refuse('the update depends on structs the server does not have; resync', ErrorCode.OutOfSync)
      return refuse('the update depends on another user’s structs the server does not have; resync', ErrorCode.OutOfSync)
    }
  }
  const introduced = [...bind].filter((client) => ownerOf(client) === undefined)
  if (introduced.length > limits.MAX_NEW_CLIENTS_PER_UPDATE) {
    return refuse(`an update may introduce at most ${limits.MAX_NEW_CLIENTS_PER_UPDATE} new client ids (budget exceeded)`, ErrorCode.TooLarge)
  }
  return ok({ bind, introduced, deferred })
}
