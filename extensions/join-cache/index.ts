/**
 * The join cache (issue 22): a fresh joiner of a large document is answered from one cached
 * encoding of the whole document instead of a new `Y.encodeStateAsUpdate` per joiner.
 *
 * Hocuspocus answers every SyncStep1 with `encodeStateAsUpdate(document, stateVector)`: for a
 * fresh joiner (empty state vector) that encodes the whole document, once per joiner. Without
 * forking it, the answer is split in two:
 *
 * 1. `prepare` (server/http/websocket.ts calls it on every frame before Hocuspocus reads it)
 *    rewrites a fresh joiner's SyncStep1 for a loaded document: its state vector becomes the
 *    document's current one, so Hocuspocus's own SyncStep2 carries only what changed since, and
 *    the delete set. The rewritten frame is remembered by its buffer.
 * 2. `beforeSync` (awaited by Hocuspocus before it answers, run only for an authenticated
 *    document connection, and last of every extension's) finds the rewritten frame through the
 *    payload (a view into it) and sends `Sync/Update` with the whole document first: the cached
 *    encoding, made once and dropped at the document's next `update`. So the cache is the live
 *    state at this moment, which holds everything the rewritten state vector names; the joiner
 *    gets everything, the SyncStep2 that follows adds what changed in between.
 *
 * When the cache cannot answer (an error, or the document was unloaded and loaded again since the
 * rewrite), the rewritten state vector is emptied in place: Hocuspocus answers the whole document
 * itself, exactly as without the cache. A failure never breaks the join.
 */
import type { Document, Extension, afterUnloadDocumentPayload, beforeSyncPayload, onDestroyPayload } from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { messageYjsSyncStep1 } from 'y-protocols/sync'
import { PRIORITY } from '../priorities.ts'
import { emptyStateVectorInPlace, readFreshStep1, step1Frame, updateFrame } from './frame.ts'

/** Documents whose encoded state is smaller than this are answered by Hocuspocus alone (64 KiB). */
export const JOIN_CACHE_MIN_BYTES = 64 * 1024

/** Cached encodings held at once, over all documents; the least recently used go first (256 MiB). */
export const JOIN_CACHE_MAX_BYTES = 256 * 1024 * 1024

/** How a rewritten join was answered: from the cache, by encoding now, or by Hocuspocus alone. */
export type JoinAnswer = 'hit' | 'miss' | 'fallback'

export interface JoinCacheMetrics {
  answered(result: JoinAnswer): void
  hookError(hook: string): void
}

export interface JoinCacheConfiguration {
  logger: Logger
  metrics: JoinCacheMetrics | undefined
  minBytes: number
  maxBytes: number
}

/** What `afterUnloadDocument` reads of its payload. */
type UnloadedDocument = Pick<afterUnloadDocumentPayload, 'documentName'> & { instance: { documents: ReadonlyMap<string, Document> } }

/** The whole document, encoded, as the Update frame for its plain address (`update` is a view into it). */
interface Whole {
  frame: Uint8Array
  update: Uint8Array
}

interface Entry {
  document: Document
  /** Undefined once the document changed (or the encoding was dropped for room). */
  whole: Whole | undefined
  /** Bytes of the last encoding plus those of every update since: an upper estimate of the size. */
  estimate: number
  stop(): void
}

export class JoinCache implements Extension {
  readonly extensionName = 'parley-join-cache'
  readonly priority = PRIORITY.joinCache
  private readonly configuration: JoinCacheConfiguration
  /** By document name, least recently answered first. */
  private readonly entries = new Map<string, Entry>()
  /** Rewritten frames (by their buffer, which only they use) and the document they were rewritten for. */
  private readonly rewritten = new WeakMap<ArrayBufferLike, Document>()
  private cachedBytes = 0

  constructor(configuration: Partial<JoinCacheConfiguration> & Pick<JoinCacheConfiguration, 'logger'>) {
    this.configuration = { metrics: undefined, minBytes: JOIN_CACHE_MIN_BYTES, maxBytes: JOIN_CACHE_MAX_BYTES, ...configuration }
  }

  /** Bytes of encodings held now. */
  get heldBytes(): number {
    return this.cachedBytes
  }

  /**
   * `frame`, or, for a fresh joiner's SyncStep1 of a loaded document that is (or may be) large, the
   * same SyncStep1 with the document's current state vector. Never throws.
   */
  prepare(frame: Uint8Array, documents: ReadonlyMap<string, Document>): Uint8Array {
    try {
      const step1 = readFreshStep1(frame)
      if (!step1) return frame
      const document = documents.get(step1.documentName)
      if (!document) return frame
      // A size not known yet (no join since the load) is learnt by answering this one.
      const entry = this.entries.get(step1.documentName)
      if (entry?.document === document && entry.estimate < this.configuration.minBytes) return frame
      const stateVector = Y.encodeStateVector(document)
      if (stateVector.length <= 1) return frame
      const rewritten = step1Frame(step1.address, stateVector)
      this.rewritten.set(rewritten.buffer, document)
      return rewritten
    } catch (error) {
      this.failed('prepare', error)
      return frame
    }
  }

  async beforeSync({ connection, document, documentName, type, payload }: beforeSyncPayload): Promise<void> {
    if (type !== messageYjsSyncStep1) return
    const rewrittenFor = this.rewritten.get(payload.buffer)
    if (rewrittenFor === undefined) return
    this.rewritten.delete(payload.buffer)
    try {
      if (rewrittenFor !== document) {
        // Unloaded and loaded again since the rewrite: the state vector was read from another
        // object, which this cache never encoded. Simplest safe answer: Hocuspocus's, whole.
        emptyStateVectorInPlace(payload)
        this.configuration.metrics?.answered('fallback')
        return
      }
      const whole = this.wholeDocument(documentName, document)
      const address = connection.messageAddress
      // The frame for the plain address is sent as it is: sockets only read it.
      connection.send(address === documentName ? whole.frame : updateFrame(address, whole.update))
    } catch (error) {
      emptyStateVectorInPlace(payload)
      this.configuration.metrics?.answered('fallback')
      this.failed('beforeSync', error, documentName)
    }
  }

  async afterUnloadDocument({ instance, documentName }: UnloadedDocument): Promise<void> {
    const entry = this.entries.get(documentName)
    if (entry && instance.documents.get(documentName) !== entry.document) this.drop(documentName, entry)
  }

  async onDestroy(_payload: onDestroyPayload): Promise<void> {
    for (const [name, entry] of this.entries) this.drop(name, entry)
  }

  /** The whole document encoded: cached, or encoded now (and cached if it is large enough and fits). */
  private wholeDocument(documentName: string, document: Document): Whole {
    let entry = this.entries.get(documentName)
    if (entry?.document !== document) {
      if (entry) this.drop(documentName, entry)
      entry = this.track(documentName, document)
    }
    // Most recently answered last: eviction takes the first.
    this.entries.delete(documentName)
    this.entries.set(documentName, entry)
    if (entry.whole) {
      this.configuration.metrics?.answered('hit')
      return entry.whole
    }
    const encoded = Y.encodeStateAsUpdate(document)
    this.configuration.metrics?.answered('miss')
    entry.estimate = encoded.byteLength
    const frame = updateFrame(documentName, encoded)
    const whole = { frame, update: frame.subarray(frame.byteLength - encoded.byteLength) }
    if (encoded.byteLength >= this.configuration.minBytes) this.keep(entry, whole)
    return whole
  }

  private track(documentName: string, document: Document): Entry {
    const entry: Entry = {
      document,
      whole: undefined,
      estimate: 0,
      stop: () => document.off('update', onUpdate),
    }
    // Any change makes the encoding stale: drop it at once (the event comes with the change).
    const onUpdate = (update: Uint8Array) => {
      this.release(entry)
      entry.estimate += update.byteLength
    }
    document.on('update', onUpdate)
    this.entries.set(documentName, entry)
    return entry
  }

  private keep(entry: Entry, whole: Whole): void {
    const { maxBytes } = this.configuration
    const bytes = whole.frame.byteLength
    if (bytes > maxBytes) return
    for (const other of this.entries.values()) {
      if (this.cachedBytes + bytes <= maxBytes) break
      this.release(other)
    }
    entry.whole = whole
    this.cachedBytes += bytes
  }

  private release(entry: Entry): void {
    if (!entry.whole) return
    this.cachedBytes -= entry.whole.frame.byteLength
    entry.whole = undefined
  }

  private drop(documentName: string, entry: Entry): void {
    entry.stop()
    this.release(entry)
    this.entries.delete(documentName)
  }

  private failed(hook: string, error: unknown, documentName?: string): void {
    this.configuration.metrics?.hookError(hook)
    this.configuration.logger.error({ documentName, err: error }, `join cache: ${hook} failed; Hocuspocus answers the whole document`)
  }
}
