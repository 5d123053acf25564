/**
 * The write guard: every update and sync step 2 from a connection is checked against the schema
 * and the sender's role before it is applied, stored or broadcast (`beforeSync` is awaited before
 * application, and runs before durability by priority). A refused update reaches the sender as a
 * `parley.error` message, then Hocuspocus closes that document session (the reason is the code);
 * the SDK rebuilds its document from the server. The socket is then closed (through
 * `closeSocket`), so that a provider that knows nothing of `parley.error` reconnects and resyncs.
 * Awareness states are checked too. Rates are not limited here: server/flow/ slows fast senders
 * before their messages reach Hocuspocus.
 */
import type {
  Extension,
  WebSocketLike,
  afterLoadDocumentPayload,
  afterUnloadDocumentPayload,
  beforeHandleAwarenessPayload,
  beforeSyncPayload,
  onConfigurePayload,
  onDestroyPayload,
  onDisconnectPayload,
} from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { messageYjsSyncStep2, messageYjsUpdate } from 'y-protocols/sync'
import { closeCodeFor, ErrorCode, SessionCloseCode, parseDocumentName, type ErrorCode as Code, type ParleyErrorInfo, type Role } from '../../protocol/index.ts'
import type { ClientOwnerStore } from '../../core/storage/types.ts'
import { connectionOf, type ParleyContext } from '../context.ts'
import { sendParleyError } from '../errors.ts'
import { PRIORITY } from '../priorities.ts'
import { AwarenessOwners } from '../../core/guard/awareness.ts'
import { ClientQuota } from '../../core/guard/client-quota.ts'
import { ClientRegistry } from '../../core/guard/clients.ts'
import { emptyDeletedBodies } from '../../core/guard/deleted-bodies.ts'
import { DEFAULT_CAPS, judgeServerWrite, judgeUpdate, type Caps } from '../../core/guard/judge.ts'
import * as limits from '../../core/guard/limits.ts'
import { Places, type DocumentKind } from '../../core/guard/places.ts'
import { refusePending, watchRefusedPending } from '../../core/guard/refused-pending.ts'
import { DEFAULT_SLOW_READER_LIMITS, watchSlowReaders, type SlowReaderLimits, type SlowReaderWatch } from './slow-readers.ts'

export { checkUpdate, type GuardInput, type GuardVerdict } from '../../core/guard/check.ts'
export { Places } from '../../core/guard/places.ts'

export interface GuardMetrics {
  rejected(code: Code): void
  awarenessDropped(count: number): void
  slowReaderClosed(): void
  hookError(hook: string): void
}

/** A refused update, for the socket close that follows its `parley.error`. */
export interface RefusedUpdate {
  code: Code
  documentName: string
  userId: string
  /** The client ids of the refused structs. */
  clients: number[]
}

export interface GuardConfiguration {
  logger: Logger
  /** Where client-id bindings are kept across restarts. */
  owners: ClientOwnerStore
  metrics: GuardMetrics | undefined
  /**
   * Has storage forget what refused client ids held pending (`Durability.forget`): per client id,
   * the clock from which its structs and deletions are dropped. Without it, storage keeps them
   * and a reload brings them back pending.
   */
  forgetPending: ((documentName: string, from: ReadonlyMap<number, number>) => Promise<void>) | undefined
  /**
   * Closes the sender's socket after a refusal (server/flow: with a backoff for repeats).
   * Without it, the socket is closed at once with the code's close code.
   */
  closeSocket: ((webSocket: WebSocketLike, refused: RefusedUpdate) => void) | undefined
  maxUpdateBytes: number
  maxDocumentBytes: number
  /** Structs a document may hold ({@link limits.MAX_DOCUMENT_ITEMS}). */
  maxDocumentItems: number
  slowReaders: SlowReaderLimits
}

/**
 * Others see the name the token gives (or the user id), never the one the client wrote: a client
 * cannot show itself as someone else by name. The states left are the sender's own.
 */
function nameFromToken(states: Map<number, Record<string, unknown>>, name: string): void {
  for (const state of states.values()) {
    const user: unknown = state.user
    if (typeof user === 'object' && user !== null && !('name' in user && user.name === name)) state.user = { ...user, name }
  }
}

/** Thrown from `beforeSync`: Hocuspocus closes the document session with this reason. */
export class UpdateRefused extends Error {
  readonly reason: string
  readonly code: number
  constructor(code: Code, message: string) {
    super(message)
    this.reason = code
    this.code = SessionCloseCode.Refused
  }
}

interface DocumentGuard {
  kind: DocumentKind
  places: Places
  clients: ClientRegistry
  awareness: AwarenessOwners
  bytes: number
  stopWatching: () => void
}

export class Guard implements Extension {
  readonly extensionName = 'parley-guard'
  readonly priority = PRIORITY.guard
  private readonly configuration: GuardConfiguration
  private readonly documents = new Map<string, DocumentGuard>()
  private slowReaders: SlowReaderWatch | undefined
  /** New client ids per user and document per hour. */
  private readonly clientQuota = new ClientQuota()

  constructor(configuration: Partial<GuardConfiguration> & Pick<GuardConfiguration, 'logger' | 'owners'>) {
    this.configuration = {
      metrics: undefined,
      forgetPending: undefined,
      closeSocket: undefined,
      maxUpdateBytes: limits.MAX_UPDATE_BYTES,
      maxDocumentBytes: limits.MAX_DOCUMENT_BYTES,
      maxDocumentItems: limits.MAX_DOCUMENT_ITEMS,
      slowReaders: DEFAULT_SLOW_READER_LIMITS,
      ...configuration,
    }
  }

  async onConfigure({ instance }: onConfigurePayload): Promise<void> {
    this.slowReaders = watchSlowReaders(
      instance,
      this.configuration.logger,
      () => this.configuration.metrics?.slowReaderClosed(),
      this.configuration.slowReaders,
    )
  }

  async onDestroy(_: onDestroyPayload): Promise<void> {
    this.slowReaders?.stop()
  }

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const parsed = parseDocumentName(documentName)
    const kind: DocumentKind = parsed?.kind === 'inbox' ? 'inbox' : 'comments'
    const { logger, metrics } = this.configuration
    const clients = new ClientRegistry(await this.configuration.owners.owners(documentName))
    const stopEmptying =
      kind === 'comments' ? emptyDeletedBodies(document, logger, documentName, () => metrics?.hookError('emptyDeletedBodies')) : () => undefined
    const stopDropping = watchRefusedPending(document, clients)
    this.documents.set(documentName, {
      kind,
      places: new Places(kind),
      clients,
      awareness: new AwarenessOwners(),
      bytes: Y.encodeStateAsUpdate(document).byteLength,
      stopWatching: () => {
        stopEmptying()
        stopDropping()
      },
    })
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.documents.get(documentName)?.stopWatching()
    this.documents.delete(documentName)
  }

  async beforeSync({ connection, context: raw, document, documentName, type, payload }: beforeSyncPayload<ParleyContext>): Promise<void> {
    if (connection.readOnly || (type !== messageYjsSyncStep2 && type !== messageYjsUpdate)) return
    const context = connectionOf(raw)
    // A sync reaches beforeSync only after onAuthenticate returned the context; without it, nothing is written.
    if (!context) throw new UpdateRefused(ErrorCode.WriteRejected, 'the connection is not authenticated')
    const guard = this.documents.get(documentName)
    const refuse = async (code: Code, reason: string, clients: Iterable<number> = []): Promise<never> => {
      // A refused struct breaks its client's chain: refuse that client id until it rebuilds.
      // Missing dependencies are not the content's fault: a resync mends them.
      const refused = [...clients]
      if (code !== ErrorCode.OutOfSync && guard) await this.refusePending(document, documentName, guard, refused)
      this.configuration.metrics?.rejected(code)
      this.configuration.logger.warn({ documentName, userId: context.user.id, code }, `update refused: ${reason}`)
      sendParleyError(connection, documentName, { code, message: reason })
      this.closeSocket(connection.webSocket, { code, documentName, userId: context.user.id, clients: refused })
      throw new UpdateRefused(code, reason)
    }
    if (!guard || parseDocumentName(documentName)?.kind === 'feed') return refuse(ErrorCode.WriteRejected, 'this document is read-only')
    const actor = { userId: context.user.id, role: context.role }
    const judgement = judgeUpdate(document, guard, actor, payload, this.caps())
    // A refusal blocks only the sender's own client ids and new ones, never another user's.
    if (!judgement.ok) return refuse(judgement.error.code, judgement.error.reason, judgement.error.block)
    if (judgement.value.bytes === 0) return
    // New client ids are counted per user and document; a rate refusal blocks nothing (reopen later).
    if (!this.clientQuota.take(documentName, context.user.id, judgement.value.introduced.length)) {
      return refuse(
        ErrorCode.RateLimited,
        `at most ${limits.MAX_NEW_CLIENTS_PER_HOUR} new client ids per user and document per hour; reopen the document later`,
      )
    }
    guard.bytes += judgement.value.bytes
    const bound = guard.clients.bind(judgement.value.bind, context.user.id)
    // Stored before the update is acknowledged: a restart must not forget who owns a client id.
    if (bound.length > 0) await this.configuration.owners.bind(documentName, bound, context.user.id)
  }

  /**
   * Checks a server-side write made on behalf of a user (REST), exactly as a socket write from that
   * user would be checked; binds the write's client id to the user when it passes.
   */
  async checkServerWrite(input: {
    documentName: string
    document: Y.Doc
    update: Uint8Array
    actor: { user: { id: string }; role: Role }
  }): Promise<ParleyErrorInfo | null> {
    const { documentName, document, update, actor } = input
    const guard = this.documents.get(documentName)
    if (!guard) return { code: ErrorCode.Internal, message: 'the document is not loaded' }
    // Not counted against the user's quota of new client ids: the server writer picks a fresh one per write.
    const judgement = judgeServerWrite(document, guard, { userId: actor.user.id, role: actor.role }, update, this.caps())
    if (!judgement.ok) {
      this.configuration.metrics?.rejected(judgement.error.code)
      return { code: judgement.error.code, message: judgement.error.reason }
    }
    const bound = guard.clients.bind(judgement.value.bind, actor.user.id)
    if (bound.length > 0) await this.configuration.owners.bind(documentName, bound, actor.user.id)
    guard.bytes += judgement.value.bytes
    return null
  }

  async beforeHandleAwareness({ connection, context, states, documentName }: beforeHandleAwarenessPayload<ParleyContext>): Promise<void> {
    if (!connection) return
    const user = connectionOf(context)?.user
    const guard = this.documents.get(documentName)
    if (!user || !guard) {
      states.clear()
      return
    }
    const dropped = guard.awareness.filter(states, connection.socketId, user.id)
    nameFromToken(states, user.name ?? user.id)
    if (dropped > 0) {
      this.configuration.metrics?.awarenessDropped(dropped)
      this.configuration.logger.warn({ documentName, userId: user.id, dropped }, 'awareness states dropped: not the user’s own')
    }
  }

  async onDisconnect({ documentName, socketId }: onDisconnectPayload): Promise<void> {
    this.documents.get(documentName)?.awareness.release(socketId)
  }

  /**
   * Refuses the client ids a refusal broke from now on, drops what they hold pending
   * (refused-pending.ts), and has storage forget it.
   */
  private async refusePending(document: Y.Doc, documentName: string, guard: DocumentGuard, refused: number[]): Promise<void> {
    try {
      const forgotten = refusePending(document, guard.clients, refused)
      if (forgotten.size > 0) await this.configuration.forgetPending?.(documentName, forgotten)
    } catch (error) {
      guard.clients.block(refused)
      this.configuration.metrics?.hookError('refusePending')
      this.configuration.logger.error({ documentName, err: error }, 'could not drop what refused client ids hold pending')
    }
  }

  /** The caps of {@link judgeUpdate}, with this guard's configured sizes. */
  private caps(): Caps {
    return {
      ...DEFAULT_CAPS,
      maxUpdateBytes: this.configuration.maxUpdateBytes,
      maxDocumentBytes: this.configuration.maxDocumentBytes,
      maxDocumentItems: this.configuration.maxDocumentItems,
    }
  }

  /** The socket close that follows a refusal's `parley.error`, so that any provider resyncs. */
  private closeSocket(webSocket: WebSocketLike, refused: RefusedUpdate): void {
    if (this.configuration.closeSocket) {
      this.configuration.closeSocket(webSocket, refused)
      return
    }
    const close = closeCodeFor(refused.code)
    if (close) webSocket.close(close.code, close.reason)
  }
}
