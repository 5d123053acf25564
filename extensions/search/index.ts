/**
 * Keeps the comment search index current from document changes (issue 20). A synchronous
 * `afterTransaction` listener, registered when a comments document loads, reads which comments each
 * transaction touched (core/mentions/diff.ts, the stream the mention detector reads) and remembers
 * them; a flush, at most {@link SearchIndexingConfiguration.flushMs} later, reads their current state
 * (core/search/indexing.ts: put, or remove when deleted, hidden or empty) and writes the batch, one
 * document at a time, in order, off the writer's path.
 *
 * Crash safety, like the mention sweep: the index mark of a document is set to its stored head at
 * unload, once every change is written. A document loaded with no mark, or a mark behind its head
 * (a crash between a write and its indexing), is indexed again from the loaded document; at start,
 * {@link Search.sweep} loads every such document.
 */
import type { Extension, Hocuspocus, afterLoadDocumentPayload, afterUnloadDocumentPayload, beforeUnloadDocumentPayload } from '@hocuspocus/server'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { Logger } from 'pino'
import type * as Y from 'yjs'
import { parseDocumentName } from '../../protocol/index.ts'
import { readTransaction } from '../../core/mentions/diff.ts'
import { isRelayed, LOAD_ORIGIN } from '../../core/origins.ts'
import { decideComment, entriesOf } from '../../core/search/indexing.ts'
import type { SearchEntry, SearchKey, Storage } from '../../core/storage/types.ts'
import { PRIORITY } from '../priorities.ts'

/** Documents the startup sweep loads at once. */
export const SEARCH_SWEEP_CONCURRENCY = 2

/**
 * Comment text written to the index in one storage call (characters). A larger flush is cut into
 * calls of about this size with the event loop served between them, so that indexing a burst of
 * long comments (a SQLite FTS insert costs ~0.15 ms per KB) never holds up other clients' writes.
 */
export const SEARCH_FLUSH_CHUNK_CHARS = 8 * 1024

/** Cuts a flush into storage calls of at most {@link SEARCH_FLUSH_CHUNK_CHARS} of text (one entry at least); removals go first. */
export function flushChunks(
  put: readonly SearchEntry[],
  remove: readonly SearchKey[],
  chunkChars = SEARCH_FLUSH_CHUNK_CHARS,
): Array<{ put: SearchEntry[]; remove: SearchKey[] }> {
  const chunks: Array<{ put: SearchEntry[]; remove: SearchKey[] }> = [{ put: [], remove: [...remove] }]
  let size = 0
  for (const entry of put) {
    const last = chunks.at(-1)!
    if (last.put.length > 0 && size + entry.text.length > chunkChars) {
      chunks.push({ put: [entry], remove: [] })
      size = entry.text.length
      continue
    }
    last.put.push(entry)
    size += entry.text.length
  }
  return chunks
}

export interface SearchIndexingMetrics {
  hookError(hook: string): void
  /** Entries written per flush, and how long the write took. */
  observeFlush(entries: number, seconds: number): void
  /** The synchronous part, in the writer's transaction: reading which comments it touched. */
  observeDiff(seconds: number): void
}

export interface SearchIndexingConfiguration {
  storage: Storage
  logger: Logger
  metrics: SearchIndexingMetrics | undefined
  /** Longest a change waits before it is written to the index (the contract: findable within 2 s). */
  flushMs: number
}

/** Default configuration values. */
export const SEARCH_INDEXING_DEFAULTS = {
  /** Writes are batched for this long: well within the contract's 2 s. */
  flushMs: 250,
} as const

interface Touched {
  thread: Y.Map<unknown>
  comment: Y.Map<unknown>
}

interface DocumentState {
  subjectId: string
  document: Y.Doc
  /** Comments changed since the last flush. */
  pending: Map<Y.Map<unknown>, Touched>
  /** A write failed: the mark must not move on until a rebuild succeeds. */
  failed: boolean
  /** Relayed writes arrived (indexed where they entered): rebuild before moving the mark. */
  relayed: boolean
  stop(): void
}

export class Search implements Extension {
  readonly extensionName = 'parley-search'
  readonly priority = PRIORITY.notifications
  private readonly configuration: SearchIndexingConfiguration
  private readonly documents = new Map<string, DocumentState>()
  /** Index writes of every document, in order: one flush writes the changes of all of them together. */
  private queue: Promise<void> = Promise.resolve()
  /** The next flush of every document's pending changes. */
  private timer: NodeJS.Timeout | null = null

  constructor(configuration: Partial<SearchIndexingConfiguration> & Pick<SearchIndexingConfiguration, 'storage' | 'logger'>) {
    this.configuration = { ...SEARCH_INDEXING_DEFAULTS, metrics: undefined, ...configuration }
  }

  /** Queues a write; when it fails, every document it wrote for is indexed again before its mark moves on. */
  private enqueue(states: ReadonlyArray<[string, DocumentState]>, job: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(job).catch((error: unknown) => {
      for (const [, state] of states) state.failed = true
      this.configuration.metrics?.hookError('search')
      this.configuration.logger.error(
        { documentNames: states.map(([name]) => name), err: error },
        'search indexing failed; the documents are indexed again when they load',
      )
    })
    return this.queue
  }

  /** Flushes every document's pending changes at most {@link SearchIndexingConfiguration.flushMs} from now. */
  private schedule(): void {
    if (this.timer) return
    this.timer = setTimeout(() => {
      this.timer = null
      void this.flush([...this.documents])
    }, this.configuration.flushMs)
    this.timer.unref()
  }

  /**
   * Writes the pending comments' current state, of every document given, in as few storage calls
   * as their text allows (many documents written at 1 comment a second each would otherwise cost a
   * transaction per comment).
   */
  private flush(documents: ReadonlyArray<[string, DocumentState]>): Promise<void> {
    const touched: Array<[DocumentState, Touched[]]> = []
    const states: Array<[string, DocumentState]> = []
    for (const [name, state] of documents) {
      if (state.pending.size === 0) continue
      touched.push([state, [...state.pending.values()]])
      states.push([name, state])
      state.pending.clear()
    }
    if (touched.length === 0) return this.queue
    return this.enqueue(states, async () => {
      const put: SearchEntry[] = []
      const remove: SearchKey[] = []
      for (const [state, comments] of touched) {
        for (const { thread, comment } of comments) {
          const decision = decideComment(state.subjectId, thread, comment)
          if (decision?.kind === 'put') put.push(decision.entry)
          else if (decision?.kind === 'remove') remove.push({ subjectId: state.subjectId, commentId: decision.commentId })
        }
      }
      for (const [index, chunk] of flushChunks(put, remove).entries()) {
        if (index > 0) await nextTurn()
        const started = performance.now()
        await this.configuration.storage.search.apply(chunk.put, chunk.remove)
        this.configuration.metrics?.observeFlush(chunk.put.length + chunk.remove.length, (performance.now() - started) / 1000)
      }
    })
  }

  /** Indexes the whole document again (its entries replace the subject's). */
  private rebuild(name: string, state: DocumentState): void {
    state.pending.clear()
    void this.enqueue([[name, state]], async () => {
      await this.configuration.storage.search.replaceSubject(state.subjectId, entriesOf(state.subjectId, state.document))
      state.failed = false
      state.relayed = false
    })
  }

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const parsed = parseDocumentName(documentName)
    if (parsed?.kind !== 'comments') return
    const listener = (tr: Y.Transaction) => this.onTransaction(documentName, state, tr)
    const state: DocumentState = {
      subjectId: parsed.id,
      document,
      pending: new Map(),
      failed: false,
      relayed: false,
      stop: () => document.off('afterTransaction', listener),
    }
    this.documents.set(documentName, state)
    document.on('afterTransaction', listener)
    try {
      const { search, notifications } = this.configuration.storage
      const [mark, head] = await Promise.all([search.mark(documentName), notifications.documentHead(documentName)])
      // Never written (head 0): nothing to index. Indexed up to its head: nothing missed.
      if (head === 0 || (mark !== null && mark >= head)) return
    } catch (error) {
      this.configuration.metrics?.hookError('afterLoadDocument')
      this.configuration.logger.error({ documentName, err: error }, 'search index mark unreadable; indexing the document again')
    }
    this.rebuild(documentName, state)
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
      for (const touch of changes.comments.values()) state.pending.set(touch.comment, { thread: touch.thread, comment: touch.comment })
      if (changes.comments.size > 0) this.schedule()
      this.configuration.metrics?.observeDiff((performance.now() - started) / 1000)
    } catch (error) {
      // Inside a Yjs transaction's cleanup: never throw into whoever wrote.
      this.configuration.metrics?.hookError('afterTransaction')
      this.configuration.logger.error({ documentName: name, err: error }, 'reading a transaction for search failed')
    }
  }

  async beforeUnloadDocument({ documentName }: beforeUnloadDocumentPayload): Promise<void> {
    const state = this.documents.get(documentName)
    if (!state) return
    if (state.relayed || state.failed) this.rebuild(documentName, state)
    else void this.flush([[documentName, state]])
    await this.queue
    if (state.failed) return
    try {
      const { search, notifications } = this.configuration.storage
      const head = await notifications.documentHead(documentName)
      if (head > 0) await search.setMark(documentName, head)
    } catch (error) {
      this.configuration.metrics?.hookError('beforeUnloadDocument')
      this.configuration.logger.error({ documentName, err: error }, 'search index mark not stored; the document is indexed again at the next start')
    }
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.documents.get(documentName)?.stop()
    this.documents.delete(documentName)
  }

  /** Writes every pending change now and resolves once the index holds it. */
  async settled(documentName: string): Promise<void> {
    const state = this.documents.get(documentName)
    if (!state) return
    await this.flush([[documentName, state]])
  }

  /** Loads and indexes every comments document written after its index mark (or never indexed). */
  async sweep(hocuspocus: Hocuspocus): Promise<number> {
    const names = await this.configuration.storage.search.documentsToReindex()
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
          this.configuration.logger.error({ documentName: name, err: error }, 'startup search indexing failed')
        }
      }
    }
    await Promise.all(Array.from({ length: SEARCH_SWEEP_CONCURRENCY }, worker))
    if (names.length > 0) this.configuration.logger.info({ documents: names.length }, 'indexed documents written since their last search indexing')
    return names.length
  }
}
