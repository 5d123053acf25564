/**
 * What refused client ids hold pending. A refused struct breaks its client's clock chain and the
 * client id is refused from then on, so whatever the document holds pending under it (structs of
 * its that overtook the refused ones, deletions of its future clocks) can never integrate; nor can
 * pending structs of other client ids that wait for those (the same user's: pending structs only
 * wait for their own user's structs). Left there, they would be merged into each of that user's
 * later checks (and refuse them: "this client id was refused earlier"), handed to every client in
 * its sync step 2, and stored for ever.
 *
 * So they are dropped from the document's pending state (the state vector does not change: the
 * SDK judges by it which operations reached the server, and applies the others again under its new
 * client id), and remembered while the document is loaded: a client that got them in a sync step
 * 2 and sends them back sends nothing new, and they are dropped again after Yjs applies its update.
 * Storage forgets them through the guard's `forgetPending` (durability: a compaction without them,
 * and no later append of them).
 */
import * as Y from 'yjs'
import type { ClientRegistry } from './clients.ts'
import { deletionsUpdate, heldIn, holdsPending, mergeRanges, pendingDeletionCovers, pendingView, rangesCover, type Ranges } from './pending.ts'

interface Dropped {
  structs: Map<number, Array<Y.Item | Y.GC>>
  deletions: Map<number, Ranges>
}

/** Per document, what it held pending under client ids refused since. */
const dropped = new WeakMap<Y.Doc, Dropped>()

/** Whether the document holds this struct pending, or held it until its client id was refused. */
export function heldOrDropped(doc: Y.Doc, struct: Y.Item | Y.GC): boolean {
  if (holdsPending(doc, struct)) return true
  const gone = dropped.get(doc)
  return gone !== undefined && heldIn(gone.structs, struct)
}

/** Whether the document holds a pending deletion of the whole range, or held it until its client id was refused. */
export function deletionHeldOrDropped(doc: Y.Doc, range: { client: number; clock: number; end: number }): boolean {
  return pendingDeletionCovers(doc, range) || rangesCover(dropped.get(doc)?.deletions.get(range.client), range.clock, range.end)
}

/**
 * The client ids whose pending state can never integrate once `refused` are refused: those, and
 * every client id with a pending struct that waits on a clock of theirs the document lacks
 * (transitively).
 */
export function deadClients(doc: Y.Doc, refused: Iterable<number>): Set<number> {
  const dead = new Set(refused)
  const { structs } = pendingView(doc)
  const waitsOnDead = (id: Y.ID | null) => id !== null && dead.has(id.client) && id.clock >= Y.getState(doc.store, id.client)
  for (let grown = true; grown;) {
    grown = false
    for (const [client, list] of structs) {
      if (dead.has(client)) continue
      const waits = list.some(
        (struct) =>
          struct instanceof Y.Item &&
          (waitsOnDead(struct.origin) || waitsOnDead(struct.rightOrigin) || (struct.parent instanceof Y.ID && waitsOnDead(struct.parent))),
      )
      if (!waits) continue
      dead.add(client)
      grown = true
    }
  }
  return dead
}

/**
 * Drops what the document holds pending under `clients` (structs and deletions of their clocks)
 * and remembers it; returns, per client id that held something, its state (what storage must
 * forget starts there).
 */
export function dropPending(doc: Y.Doc, clients: ReadonlySet<number>): Map<number, number> {
  const view = pendingView(doc)
  const structClients = [...view.structs.keys()].filter((client) => clients.has(client))
  const deletionClients = [...view.deletions.keys()].filter((client) => clients.has(client))
  const forgotten = new Map([...structClients, ...deletionClients].map((client) => [client, Y.getState(doc.store, client)]))
  if (forgotten.size === 0) return forgotten
  let gone = dropped.get(doc)
  if (!gone) dropped.set(doc, (gone = { structs: new Map(), deletions: new Map() }))
  const pending = doc.store.pendingStructs
  if (pending && structClients.length > 0) {
    for (const client of structClients) {
      // Only what it does not hold yet: the same structs come back with every resend.
      const news = view.structs.get(client)!.filter((struct) => !heldIn(gone.structs, struct))
      if (news.length > 0)
        gone.structs.set(
          client,
          [...(gone.structs.get(client) ?? []), ...news].sort((a, b) => a.id.clock - b.id.clock),
        )
    }
    if (structClients.length === view.structs.size) doc.store.pendingStructs = null
    else {
      const allOf = Y.encodeStateVector(new Map(structClients.map((client) => [client, Number.MAX_SAFE_INTEGER])))
      const missing = new Map([...pending.missing].filter(([client]) => !clients.has(client)))
      doc.store.pendingStructs = { missing, update: Y.diffUpdateV2(pending.update, allOf) }
    }
  }
  if (deletionClients.length > 0) {
    for (const client of deletionClients) gone.deletions.set(client, mergeRanges([...(gone.deletions.get(client) ?? []), ...view.deletions.get(client)!]))
    const rest = [...view.deletions].filter(([client]) => !clients.has(client))
    doc.store.pendingDs = rest.length === 0 ? null : Y.convertUpdateFormatV1ToV2(deletionsUpdate(rest))
  }
  return forgotten
}

/**
 * What a refusal does to the client ids it breaks: refuses them from now on, with the client ids
 * whose pending state waits on theirs, and drops what they all hold pending. Returns what storage
 * must forget: per client id that held something pending, the clock from which it is forgotten.
 */
export function refusePending(doc: Y.Doc, clients: ClientRegistry, refused: readonly number[]): Map<number, number> {
  clients.block(refused)
  if (refused.length === 0 || (doc.store.pendingStructs === null && doc.store.pendingDs === null)) return new Map()
  const dead = deadClients(doc, refused)
  clients.block(dead)
  return dropPending(doc, dead)
}

/**
 * Drops, after every transaction, what the document holds pending under refused client ids again
 * (a client that got it in a sync step 2 sent it back, and Yjs kept it pending). Returns the
 * function that stops watching.
 */
export function watchRefusedPending(doc: Y.Doc, clients: ClientRegistry): () => void {
  const afterTransaction = () => {
    if (doc.store.pendingStructs === null && doc.store.pendingDs === null) return
    const view = pendingView(doc)
    const refused = new Set([...view.structs.keys(), ...view.deletions.keys()].filter((client) => clients.isBlocked(client)))
    if (refused.size > 0) dropPending(doc, refused)
  }
  doc.on('afterTransaction', afterTransaction)
  return () => doc.off('afterTransaction', afterTransaction)
}
