/**
 * Mentions and comment activity from document diffs. A synchronous `afterTransaction` listener,
 * registered when a comments document loads, reads each transaction that entered through this
 * instance (a client connection or a server-side write; relayed ones are detected by the
 * instance that received them) from its changed types, snapshots the comments whose body changed
 * or that were created, and queues detection, one document at a time, in order.
 *
 * Crash safety: the acknowledgement goes out before detection is recorded, so a crash in between
 * would lose the mention. When a document loads, every comment is rescanned and compared with
 * the handled set in storage; documents written after their detection mark (set at unload, once
 * everything was detected), or written and never marked, are loaded and rescanned at startup
 * (`sweep`). Opening a document writes nothing: a document never written gets no mark.
 */
import {
  type Extension,
  type Hocuspocus,
  type afterLoadDocumentPayload,
  type afterUnloadDocumentPayload,
  type beforeUnloadDocumentPayload,
} from '@hocuspocus/server'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { Logger } from 'pino'
import type * as Y from 'yjs'
import { parseDocumentName } from '../../protocol/index.ts'
import type { ParleyEvents } from '../../core/events.ts'
import type { Detector } from '../../core/notifications/detector.ts'
import type { Faults } from '../../core/notifications/faults.ts'
import { MARK_PREDATES_NOTIFICATIONS } from '../../core/storage/notification-types.ts'
import type { HandledSets, RecordResult, Storage } from '../../core/storage/types.ts'
import { isRelayed, LOAD_ORIGIN } from '../../core/origins.ts'
import { PRIORITY } from '../priorities.ts'
import { readTransaction } from '../../core/mentions/diff.ts'
import { announce } from '../../core/mentions/events.ts'
import { snapshotAll } from '../../core/mentions/snapshot.ts'
import { snapshotAllReactions } from '../../core/mentions/reaction-snapshot.ts'
import { snapshotAllHides } from '../../core/mentions/moderation-snapshot.ts'
import { snapshotTransaction } from '../../core/mentions/transaction-snapshots.ts'
import { userIdOfOrigin } from '../context.ts'

/** Documents the startup sweep loads at once. */
export const SWEEP_CONCURRENCY = 4

export interface MentionMetrics {
  /** Synchronous diff reading of one transaction, or the asynchronous detection and recording. */
  observeDetection(phase: 'diff' | 'record', seconds: number): void
  hookError(hook: string): void
}

export interface MentionsConfiguration {
  storage: Storage
  detector: Detector
  events: ParleyEvents
  logger: Logger
  faults: Faults
  metrics: MentionMetrics | undefined
  /** Called after each recording (the outbox drains). */
  onRecorded(result: RecordResult): void
}

interface DocumentState {
  subjectId: string
  handled: HandledSets
  /** Detection jobs, in transaction order. */
  queue: Promise<void>
  /** A job failed: the detection mark must not move on until a rescan succeeds. */
  failed: boolean
  /** Relayed writes arrived (detected elsewhere): rescan before moving the mark at unload. */
  relayed: boolean
  /** The document predates notifications and its baseline is not recorded yet (the mark stays -1). */
  baselinePending: boolean
  stop(): void
}

export class Mentions implements Extension {
  readonly extensionName = 'parley-mentions'
  readonly priority = PRIORITY.notifications
  private readonly configuration: MentionsConfiguration
  private readonly documents = new Map<string, DocumentState>()

  constructor(configuration: MentionsConfiguration) {
    this.configuration = configuration
  }

  private enqueue(name: string, state: DocumentState, job: () => Promise<void>): void {
    // Detection starts on a later turn of the event loop than the write it reads: the writer's
    // acknowledgement and other clients' frames go first (storage calls resolve at once on SQLite,
    // so without this the whole job would run in the write's own turn).
    state.queue = state.queue
      .then(() => nextTurn())
      .then(job)
      .catch((error: unknown) => {
        state.failed = true
        this.configuration.metrics?.hookError('mentions')
        this.configuration.logger.error({ documentName: name, err: error }, 'mention detection failed; the document is rescanned when it loads again')
      })
  }

  private async record(state: DocumentState, run: () => Promise<RecordResult>): Promise<void> {
    const started = performance.now()
    const result = await run()
    this.configuration.metrics?.observeDetection('record', (performance.now() - started) / 1000)
    if (result.notifications.length === 0 && result.removed.length === 0) return
    await this.configuration.faults.at('after-outbox')
    this.configuration.onRecorded(result)
  }

  /**
   * Rescans every comment against the handled set in storage. `baselineUpTo`: the document predates
   * notifications; its mentions are recorded as seen, then its mark moves to this seq.
   */
  private rescan(name: string, document: Y.Doc, state: DocumentState, baselineUpTo: number | null, upToDate = false): void {
    const { storage, detector } = this.configuration
    // A baseline covers what was stored when the document loaded, nothing written since.
    const loaded = baselineUpTo === null ? null : snapshotAll(document, () => false)
    const loadedReactions = baselineUpTo === null ? null : snapshotAllReactions(document, new Set())
    const loadedHides = baselineUpTo === null ? null : snapshotAllHides(document, new Set())
    this.enqueue(name, state, async () => {
      state.handled = await storage.notifications.handled(state.subjectId)
      // Detection already covers everything stored: reading every comment again would find nothing.
      if (upToDate) return
      const snapshots = loaded ?? snapshotAll(document, (id) => state.handled.comments.has(id))
      const options = { baseline: loaded !== null, rescan: true }
      await this.record(state, () => detector.detect(state.subjectId, snapshots, state.handled, options))
      const reactions = loadedReactions ?? snapshotAllReactions(document, state.handled.events)
      await this.record(state, () => detector.detectReactions(state.subjectId, reactions, state.handled, options))
      const hides = loadedHides ?? snapshotAllHides(document, state.handled.events)
      await this.record(state, () => detector.detectModeration(state.subjectId, hides, state.handled, options))
      if (baselineUpTo !== null) {
        await storage.notifications.setDetectionMark(name, baselineUpTo)
        state.baselinePending = false
      }
      state.failed = false
      state.relayed = false
    })
  }

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const parsed = parseDocumentName(documentName)
    if (parsed?.kind !== 'comments') return
    const { storage, logger } = this.configuration
    const listener = (tr: Y.Transaction) => this.onTransaction(documentName, state, tr)
    const state: DocumentState = {
      subjectId: parsed.id,
      handled: { mentions: new Map(), comments: new Set(), events: new Set() },
      queue: Promise.resolve(),
      failed: false,
      relayed: false,
      baselinePending: false,
      stop: () => document.off('afterTransaction', listener),
    }
    this.documents.set(documentName, state)
    document.on('afterTransaction', listener)
    let baselineUpTo: number | null = null
    let upToDate = false
    try {
      // A document marked as older than notifications: what it holds was written before, so its
      // mentions are recorded as seen, not notified. Reading the mark writes nothing: a document
      // that is only opened stays out of storage.
      const mark = await storage.notifications.detectionMark(documentName)
      if (mark === MARK_PREDATES_NOTIFICATIONS) {
        baselineUpTo = await storage.notifications.documentHead(documentName)
        state.baselinePending = true
      } else if (mark !== null) {
        // Detected up to its stored head when it was last unloaded, and nothing written since.
        upToDate = mark >= (await storage.notifications.documentHead(documentName))
      }
    } catch (error) {
      state.failed = true
      this.configuration.metrics?.hookError('afterLoadDocument')
      logger.error({ documentName, err: error }, 'detection mark unreadable; rescanning anyway')
    }
    this.rescan(documentName, document, state, baselineUpTo, upToDate)
  }

  private onTransaction(name: string, state: DocumentState, tr: Y.Transaction): void {
    try {
      if (tr.origin === LOAD_ORIGIN) return
      if (isRelayed(tr.origin)) {
        state.relayed = true
        return
      }
      const started = performance.now()
      const changes = readTransaction(tr)
      const { comments, reactions, moderated } = snapshotTransaction(changes, userIdOfOrigin(tr.origin))
      announce(this.configuration.events, state.subjectId, changes, userIdOfOrigin(tr.origin) ?? null)
      this.configuration.metrics?.observeDetection('diff', (performance.now() - started) / 1000)
      if (comments.length === 0 && reactions.length === 0 && moderated.length === 0) return
      const { detector, faults } = this.configuration
      this.enqueue(name, state, async () => {
        await faults.at('before-detection')
        if (comments.length > 0) await this.record(state, () => detector.detect(state.subjectId, comments, state.handled))
        if (reactions.length > 0) await this.record(state, () => detector.detectReactions(state.subjectId, reactions, state.handled))
        if (moderated.length > 0) await this.record(state, () => detector.detectModeration(state.subjectId, moderated, state.handled))
      })
    } catch (error) {
      // Inside a Yjs transaction's cleanup: never throw into whoever wrote.
      this.configuration.metrics?.hookError('afterTransaction')
      this.configuration.logger.error({ documentName: name, err: error }, 'reading a transaction for mentions failed')
    }
  }

  async beforeUnloadDocument({ documentName, document }: beforeUnloadDocumentPayload): Promise<void> {
    const state = this.documents.get(documentName)
    if (!state) return
    // A baseline that failed is redone at the next load (the mark is still -1); a rescan now would notify old mentions.
    if ((state.relayed || state.failed) && !state.baselinePending) this.rescan(documentName, document, state, null)
    await state.queue
    if (state.failed || state.baselinePending) return
    try {
      const { notifications } = this.configuration.storage
      const head = await notifications.documentHead(documentName)
      // Never written: nothing to mark (and nothing stored for a document that was only opened).
      if (head > 0) await notifications.setDetectionMark(documentName, head)
    } catch (error) {
      this.configuration.metrics?.hookError('beforeUnloadDocument')
      this.configuration.logger.error({ documentName, err: error }, 'detection mark not stored; the document is rescanned at the next start')
    }
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.documents.get(documentName)?.stop()
    this.documents.delete(documentName)
  }

  /** Resolves once every detection queued for the document so far is done. */
  async settled(documentName: string): Promise<void> {
    await this.documents.get(documentName)?.queue
  }

  /** Loads and rescans every document written after its detection mark (a crash interrupted detection). */
  async sweep(hocuspocus: Hocuspocus): Promise<number> {
    const names = await this.configuration.storage.notifications.documentsToReconcile()
    let next = 0
    const worker = async () => {
      while (next < names.length) {
        const name = names[next++]
        if (name === undefined) break
        try {
          const connection = await hocuspocus.openDirectConnection(name, {})
          await this.settled(name)
          await connection.disconnect()
        } catch (error) {
          this.configuration.metrics?.hookError('sweep')
          this.configuration.logger.error({ documentName: name, err: error }, 'startup rescan failed')
        }
      }
    }
    await Promise.all(Array.from({ length: SWEEP_CONCURRENCY }, worker))
    if (names.length > 0) this.configuration.logger.info({ documents: names.length }, 'rescanned documents written since their last detection')
    return names.length
  }
}
