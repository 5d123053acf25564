/**
 * The server side of the fuzz: one `comments/…` document as the server holds it. Every update and
 * sync step 2 from a replica takes the path of a socket write: the write guard's decision
 * (`judgeUpdate`, what `Guard.beforeSync` decides: budget, unseen part, the sender's pending
 * structs merged in, `checkUpdate` with the document's `Places` and `ClientRegistry`, size caps),
 * then its side effects as the guard makes them (after a refusal, client ids blocked and what they
 * held pending dropped, and forgotten by storage as `Durability.forget` does; after a pass,
 * client ids bound and stored), then durability's (the unseen part appended to SQLite, without
 * forgotten clocks), then the update is applied. Server-side writes (the emptying of deleted
 * bodies) are appended from the document's update event, as durability does. A load (restart,
 * or unload when nobody is connected) reads the document and the client-id owners back from
 * storage.
 */
import { pino } from 'pino'
import * as Y from 'yjs'
import { withoutClocks } from '../../core/documents/forget.ts'
import { isEmptyUpdate, sharedUnseenPart } from '../../core/documents/updates.ts'
import { ClientRegistry } from '../../core/guard/clients.ts'
import { emptyDeletedBodies } from '../../core/guard/deleted-bodies.ts'
import { judgeUpdate, type GuardedDocument } from '../../core/guard/judge.ts'
import { Places } from '../../core/guard/places.ts'
import { refusePending, watchRefusedPending } from '../../core/guard/refused-pending.ts'
import { ErrorCode, type Role } from '../../protocol/index.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'

export const FUZZ_DOCUMENT = 'comments/fuzz'

/** Transaction origin of updates applied while loading from storage (never appended again). */
const LOAD = Symbol('fuzz.load')

/** Who sent an update: the origin of its transaction on the server's document. */
export interface Sender {
  userId: string
  role: Role
}

export interface Refusal {
  code: string
  reason: string
}

/** Something the server did not expect of itself (an error in a server-side write). */
export class ServerFault extends Error {}

export class FuzzServer {
  doc!: Y.Doc
  private guarded!: GuardedDocument
  private stopWatching: () => void = () => undefined
  private appends: Promise<unknown> = Promise.resolve()
  private readonly faults: string[] = []
  private readonly storage: SqliteStorage
  private readonly broadcast: (update: Uint8Array, origin: Sender | null) => void
  private taken = 0
  /** Clocks storage forgets (durability's), per client id. */
  private readonly forgotten = new Map<number, number>()
  /** Sabotage: the n-th update taken is not stored. */
  private readonly loseAppend: number | undefined

  private constructor(storage: SqliteStorage, broadcast: (update: Uint8Array, origin: Sender | null) => void, loseAppend: number | undefined) {
    this.storage = storage
    this.broadcast = broadcast
    this.loseAppend = loseAppend
  }

  /**
   * A server with an empty document stored in `file`, writing under `clientId`; `broadcast`
   * receives every update the document takes, with its sender (null for the server's own).
   */
  static async start(file: string, clientId: number, broadcast: (update: Uint8Array, origin: Sender | null) => void, loseAppend?: number): Promise<FuzzServer> {
    const server = new FuzzServer(new SqliteStorage(file), broadcast, loseAppend)
    await server.load(clientId)
    return server
  }

  /** Loads the document and the client-id owners from storage, as after a restart; the server's own writes use `clientId`. */
  async load(clientId: number): Promise<void> {
    this.stopWatching()
    await this.settled()
    const doc = new Y.Doc()
    doc.clientID = clientId
    const stored = await this.storage.documents.load(FUZZ_DOCUMENT)
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot, LOAD)
    for (const row of stored.log) Y.applyUpdate(doc, row.data, LOAD)
    this.doc = doc
    const clients = new ClientRegistry(await this.storage.clientOwners.owners(FUZZ_DOCUMENT))
    this.guarded = { kind: 'comments', places: new Places('comments'), clients, bytes: Y.encodeStateAsUpdate(doc).byteLength }
    const logger = pino({ level: 'silent' })
    const stopEmptying = emptyDeletedBodies(doc, logger, FUZZ_DOCUMENT, () => this.faults.push('emptyDeletedBodies failed'))
    const stopDropping = watchRefusedPending(doc, clients)
    this.stopWatching = () => {
      stopEmptying()
      stopDropping()
    }
    // Durability's memory of forgotten clocks lasts while the document is loaded.
    this.forgotten.clear()
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === LOAD) return
      if (!isSender(origin)) {
        // A server-side write: appended from the update event, in order.
        this.appends = this.appends.then(() => this.storage.documents.append(FUZZ_DOCUMENT, update))
      }
      this.broadcast(update, isSender(origin) ? origin : null)
    })
  }

  /**
   * One Update or SyncStep2 from a replica (both take the same path): checked, bound, stored,
   * applied. Resolves with the refusal, or null when the update was taken (or carried nothing new).
   */
  async receive(sender: Sender, payload: Uint8Array): Promise<Refusal | null> {
    const { doc, guarded } = this
    const judgement = judgeUpdate(doc, guarded, sender, payload)
    if (!judgement.ok) {
      // As the guard does: a refused struct breaks its client's chain, so its client id is refused
      // from now on, and what it holds pending is ended (a server-side write, stored and broadcast).
      if (judgement.error.code !== ErrorCode.OutOfSync) {
        const forgotten = refusePending(doc, guarded.clients, judgement.error.block)
        if (forgotten.size > 0) await this.forget(forgotten)
      }
      return { code: judgement.error.code, reason: judgement.error.reason }
    }
    if (judgement.value.bytes > 0) {
      guarded.bytes += judgement.value.bytes
      const bound = guarded.clients.bind(judgement.value.bind, sender.userId)
      if (bound.length > 0) await this.storage.clientOwners.bind(FUZZ_DOCUMENT, bound, sender.userId)
    }
    // As durability does: only the part the document lacks is stored (the part the guard judged).
    const unseen = sharedUnseenPart(doc, payload)
    const update = this.forgotten.size > 0 ? withoutClocks(unseen, this.forgotten) : unseen
    if (!isEmptyUpdate(update) && ++this.taken !== this.loseAppend) await this.storage.documents.append(FUZZ_DOCUMENT, update)
    Y.applyUpdate(doc, payload, sender)
    await this.settled()
    return null
  }

  /** As `Durability.forget`: a compaction without the forgotten clocks, and no append of them later. */
  private async forget(from: ReadonlyMap<number, number>): Promise<void> {
    for (const [client, clock] of from) this.forgotten.set(client, Math.min(clock, this.forgotten.get(client) ?? clock))
    await this.settled()
    await this.storage.documents.compact(FUZZ_DOCUMENT, (updates) => withoutClocks(Y.mergeUpdates(updates), this.forgotten))
  }

  /** Merges the stored log into a snapshot, as durability's compaction does. */
  async compact(): Promise<void> {
    await this.settled()
    await this.storage.documents.compact(FUZZ_DOCUMENT, (updates) => Y.mergeUpdates(updates))
  }

  /** Waits for server-side writes the last change caused (they start a microtask later) and their appends. */
  async settled(): Promise<void> {
    await Promise.resolve()
    await this.appends
    if (this.faults.length > 0) throw new ServerFault(this.faults.join('; '))
  }

  /** The document as storage holds it (snapshot, then log). */
  async stored(): Promise<Y.Doc> {
    await this.settled()
    const stored = await this.storage.documents.load(FUZZ_DOCUMENT)
    const doc = new Y.Doc()
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
    for (const row of stored.log) Y.applyUpdate(doc, row.data)
    return doc
  }

  async close(): Promise<void> {
    this.stopWatching()
    await this.settled()
    await this.storage.close()
  }
}

function isSender(origin: unknown): origin is Sender {
  return typeof origin === 'object' && origin !== null && 'userId' in origin && 'role' in origin
}
