/**
 * Durability: a document is a snapshot plus an append-only log in storage.
 *
 * - Client updates are appended in `beforeSync`, which Hocuspocus awaits before it applies the
 *   update and acknowledges it (`SyncStatus(true)`): an acknowledged update is in storage. Only
 *   the part the document has not integrated is appended (`sharedUnseenPart`, shared with the
 *   write guard); an update with nothing new is acknowledged without a write.
 *   A failed append throws, so the update is neither applied nor acknowledged; the client keeps
 *   it as unsynced and sends it again after reconnecting.
 * - Server-side writes (direct connections, local transactions) are appended from the document's
 *   `update` event; updates relayed by Redis were stored by the instance that received them.
 * - Loading applies the snapshot, then each log row; a row that cannot be applied is quarantined
 *   and reported instead of breaking the document for everyone.
 * - Compaction runs from `onStoreDocument` (debounced by Hocuspocus) once the log is long enough.
 */
import {
  type Extension,
  type afterLoadDocumentPayload,
  type beforeSyncPayload,
  type beforeUnloadDocumentPayload,
  type onLoadDocumentPayload,
  type onStoreDocumentPayload,
} from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { messageYjsSyncStep2, messageYjsUpdate } from 'y-protocols/sync'
import type { MergeUpdates, Storage } from '../../core/storage/types.ts'
import { CloseCode, ErrorCode } from '../../protocol/index.ts'
import { ConnectionRefused, sendParleyError } from '../errors.ts'
import { PRIORITY } from '../priorities.ts'
import { withoutClocks, type ForgottenClocks } from '../../core/documents/forget.ts'
import { isFromConnection, isRelayed, LOAD_ORIGIN } from '../../core/origins.ts'
import { isEmptyUpdate, mergeUpdates, sharedUnseenPart } from '../../core/documents/updates.ts'

/** Log rows after which `onStoreDocument` compacts a document. */
export const COMPACT_AFTER_ROWS = 500

export interface DurabilityMetrics {
  observeAppend(seconds: number, bytes: number): void
  observeCompaction(seconds: number): void
  countError(operation: 'append' | 'load' | 'compact'): void
  countQuarantined(): void
}

export interface DurabilityConfiguration {
  storage: Storage
  logger: Logger
  compactAfterRows: number
  metrics: DurabilityMetrics | undefined
}

interface DocumentState {
  /** Log rows not yet merged into the snapshot (as far as this instance knows). */
  rowsSinceCompaction: number
  /** Clocks storage forgets ({@link Durability.forget}): never appended again. */
  forgotten: Map<number, number>
  /** Appends of server-side writes still in flight, in order. */
  pending: Promise<void>
  failedAppends: number
}

export class Durability implements Extension {
  readonly extensionName = 'parley-durability'
  readonly priority = PRIORITY.durability
  private readonly configuration: DurabilityConfiguration
  private readonly states = new Map<string, DocumentState>()

  constructor(configuration: Partial<DurabilityConfiguration> & Pick<DurabilityConfiguration, 'storage' | 'logger'>) {
    this.configuration = { compactAfterRows: COMPACT_AFTER_ROWS, metrics: undefined, ...configuration }
  }

  private stateOf(name: string): DocumentState {
    let state = this.states.get(name)
    if (!state) {
      state = { rowsSinceCompaction: 0, forgotten: new Map(), pending: Promise.resolve(), failedAppends: 0 }
      this.states.set(name, state)
    }
    return state
  }

  private async append(name: string, update: Uint8Array): Promise<void> {
    const started = performance.now()
    await this.configuration.storage.documents.append(name, update)
    this.configuration.metrics?.observeAppend((performance.now() - started) / 1000, update.byteLength)
    this.stateOf(name).rowsSinceCompaction++
  }

  async onLoadDocument({ document, documentName }: onLoadDocumentPayload): Promise<void> {
    const { storage, logger, metrics } = this.configuration
    let stored
    try {
      stored = await storage.documents.load(documentName)
    } catch (error) {
      metrics?.countError('load')
      logger.error({ documentName, err: error }, 'document could not be loaded')
      // Hocuspocus answers a failed load as a refused authentication carrying this reason; the
      // SDK retries `storage_unavailable` with backoff.
      throw new ConnectionRefused({ code: ErrorCode.StorageUnavailable, message: 'storage does not answer; retry later' })
    }
    if (stored.snapshot) Y.applyUpdate(document, stored.snapshot, LOAD_ORIGIN)
    for (const row of stored.log) {
      try {
        Y.applyUpdate(document, row.data, LOAD_ORIGIN)
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        logger.error({ documentName, seq: row.seq, err: error }, 'log row cannot be applied; quarantined')
        metrics?.countQuarantined()
        await storage.documents.quarantine(documentName, row.seq, reason)
      }
    }
    this.stateOf(documentName).rowsSinceCompaction = stored.log.length
  }

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const state = this.stateOf(documentName)
    document.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === LOAD_ORIGIN || isFromConnection(origin) || isRelayed(origin)) return
      // A server-side write: no client waits for an acknowledgement, so append in order, in the
      // background, and make unload and shutdown wait for it.
      state.pending = state.pending
        .then(() => this.append(documentName, update))
        .catch((error: unknown) => {
          state.failedAppends++
          this.configuration.metrics?.countError('append')
          this.configuration.logger.error({ documentName, err: error }, 'append of a server-side write failed')
        })
    })
  }

  async beforeSync({ connection, document, documentName, type, payload }: beforeSyncPayload): Promise<void> {
    if (connection.readOnly) return
    if (type !== messageYjsSyncStep2 && type !== messageYjsUpdate) return
    // Only what the document lacks is stored: a replayed update (or sync step 2) that brings
    // nothing new is acknowledged without a storage write, so replays cannot grow the log.
    const unseen = sharedUnseenPart(document, payload)
    const { forgotten } = this.stateOf(documentName)
    const update = forgotten.size > 0 ? withoutClocks(unseen, forgotten) : unseen
    if (isEmptyUpdate(update)) return
    try {
      await this.append(documentName, update)
    } catch (error) {
      this.configuration.metrics?.countError('append')
      this.configuration.logger.error({ documentName, err: error }, 'append failed; update refused, not acknowledged')
      // Storage trouble is not this document's alone: close the socket, so that the client
      // reconnects with backoff and sends its unacknowledged changes again.
      sendParleyError(connection, documentName, { code: ErrorCode.StorageUnavailable, message: 'the update was not stored; it will be sent again' })
      connection.webSocket.close(CloseCode.StorageUnavailable.code, CloseCode.StorageUnavailable.reason)
      throw error
    }
  }

  async onStoreDocument({ documentName }: onStoreDocumentPayload): Promise<void> {
    const state = this.stateOf(documentName)
    await state.pending
    if (state.rowsSinceCompaction < this.configuration.compactAfterRows) return
    await this.compact(documentName)
  }

  /**
   * Forgets, from storage, the structs and deletions of client ids past the given clocks (the
   * write guard refused those client ids: what they held pending can never integrate). They are
   * compacted away now (a compaction merges what storage holds, so no append in flight is lost),
   * and left out of every later append while the document is loaded.
   */
  async forget(documentName: string, from: ForgottenClocks): Promise<void> {
    const state = this.stateOf(documentName)
    for (const [client, clock] of from) state.forgotten.set(client, Math.min(clock, state.forgotten.get(client) ?? clock))
    await this.compact(documentName, (updates) => withoutClocks(mergeUpdates(updates), state.forgotten))
  }

  /** Merges a document's snapshot and log in storage now. */
  async compact(documentName: string, merge: MergeUpdates = mergeUpdates): Promise<void> {
    const started = performance.now()
    try {
      const result = await this.configuration.storage.documents.compact(documentName, merge)
      this.stateOf(documentName).rowsSinceCompaction = 0
      this.configuration.metrics?.observeCompaction((performance.now() - started) / 1000)
      this.configuration.logger.debug({ documentName, ...result }, 'compacted')
    } catch (error) {
      // Compaction is an optimisation: the log stays whole, so nothing is lost by failing here.
      this.configuration.metrics?.countError('compact')
      this.configuration.logger.error({ documentName, err: error }, 'compaction failed; the log is kept')
    }
  }

  async beforeUnloadDocument({ documentName }: beforeUnloadDocumentPayload): Promise<void> {
    await this.states.get(documentName)?.pending
  }

  async afterUnloadDocument({ documentName }: { documentName: string }): Promise<void> {
    this.states.delete(documentName)
  }

  /** Resolves once the document's server-side writes seen so far are appended (or failed, logged and counted). */
  async whenStored(documentName: string): Promise<void> {
    await this.states.get(documentName)?.pending
  }

  /** Resolves once every server-side write seen so far is in storage. */
  async flush(): Promise<void> {
    await Promise.all([...this.states.values()].map((state) => state.pending))
  }
}
