/**
 * The write guard: every update and sync step 2 from a connection is checked against the schema
 * and the sender's role before it is applied, stored or broadcast (`beforeSync` is awaited before
 * application, and runs before durability by priority). A refused update reaches the sender as a
 * `parley.error` message, then Hocuspocus closes that document session (the reason is the code);
 * the SDK rebuilds its document from the server. Awareness states are checked too, and messages
 * are rate limited per socket and per user.
 */
import type {
  Extension,
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
import { ErrorCode, parseDocumentName, type ErrorCode as Code, type ParleyErrorInfo, type Role } from '../../protocol/index.ts'
import type { ClientOwnerStore } from '../../server/storage/types.ts'
import type { ConnectionContext } from '../auth/index.ts'
import { isEmptyUpdate, unseenPart } from '../durability/updates.ts'
import { sendParleyError } from '../errors.ts'
import { PRIORITY } from '../priorities.ts'
import { AwarenessOwners } from './awareness.ts'
import { checkUpdate } from './check.ts'
import { ClientRegistry } from './clients.ts'
import { emptyDeletedBodies } from './deleted-bodies.ts'
import * as limits from './limits.ts'
import { Places, type DocumentKind } from './places.ts'
import { RateLimiter, WindowCounter } from './rate-limit.ts'
import { DEFAULT_SLOW_READER_LIMITS, watchSlowReaders, type SlowReaderLimits, type SlowReaderWatch } from './slow-readers.ts'
import { pendingOf } from './update-index.ts'

export { checkUpdate, type GuardInput, type GuardVerdict } from './check.ts'
export { Places } from './places.ts'

export interface GuardMetrics {
  rejected(code: Code): void
  awarenessDropped(count: number): void
  slowReaderClosed(): void
  hookError(hook: string): void
}

export interface GuardConfiguration {
  logger: Logger
  /** Where client-id bindings are kept across restarts. */
  owners: ClientOwnerStore
  metrics: GuardMetrics | undefined
  updates: { perSecond: number; burst: number }
  awareness: { perSecond: number; burst: number }
  maxUpdateBytes: number
  maxDocumentBytes: number
  slowReaders: SlowReaderLimits
  /** WebSocket upgrades per remote address (applied by the HTTP layer through {@link Guard.admitConnection}). */
  connectionsPerAddress: { perSecond: number; burst: number }
}

/** Thrown from `beforeSync`: Hocuspocus closes the document session with this reason. */
export class UpdateRefused extends Error {
  readonly reason: string
  readonly code: number
  constructor(code: Code, message: string) {
    super(message)
    this.reason = code
    this.code = 4400
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
  private readonly updateLimiter: RateLimiter
  private readonly awarenessLimiter: RateLimiter
  private readonly connectionLimiter: RateLimiter
  private readonly abuse = new WindowCounter(limits.ABUSE_WINDOW_MS)
  /** Users whose writes are refused until the given time, after persistent abuse. */
  private readonly cooldowns = new Map<string, number>()
  private slowReaders: SlowReaderWatch | undefined

  constructor(configuration: Partial<GuardConfiguration> & Pick<GuardConfiguration, 'logger' | 'owners'>) {
    this.configuration = {
      metrics: undefined,
      updates: { perSecond: limits.UPDATES_PER_SECOND, burst: limits.UPDATE_BURST },
      awareness: { perSecond: limits.AWARENESS_PER_SECOND, burst: limits.AWARENESS_BURST },
      maxUpdateBytes: limits.MAX_UPDATE_BYTES,
      maxDocumentBytes: limits.MAX_DOCUMENT_BYTES,
      slowReaders: DEFAULT_SLOW_READER_LIMITS,
      connectionsPerAddress: { perSecond: limits.CONNECTIONS_PER_ADDRESS_PER_SECOND, burst: limits.CONNECTION_BURST_PER_ADDRESS },
      ...configuration,
    }
    this.updateLimiter = new RateLimiter(this.configuration.updates)
    this.awarenessLimiter = new RateLimiter(this.configuration.awareness)
    this.connectionLimiter = new RateLimiter(this.configuration.connectionsPerAddress)
  }

  /** Whether a WebSocket upgrade from this address may proceed (a token bucket per address). */
  admitConnection(address: string): boolean {
    const admitted = this.connectionLimiter.take(address)
    if (!admitted) this.configuration.metrics?.rejected(ErrorCode.RateLimited)
    return admitted
  }

  async onConfigure({ instance }: onConfigurePayload): Promise<void> {
    this.slowReaders = watchSlowReaders(instance, this.configuration.logger, () => this.configuration.metrics?.slowReaderClosed(), this.configuration.slowReaders)
  }

  async onDestroy(_: onDestroyPayload): Promise<void> {
    this.slowReaders?.stop()
  }

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const parsed = parseDocumentName(documentName)
    const kind: DocumentKind = parsed?.kind === 'inbox' ? 'inbox' : 'comments'
    const { logger, metrics } = this.configuration
    this.documents.set(documentName, {
      kind,
      places: new Places(kind),
      clients: new ClientRegistry(await this.configuration.owners.owners(documentName)),
      awareness: new AwarenessOwners(),
      bytes: Y.encodeStateAsUpdate(document).byteLength,
      stopWatching: kind === 'comments' ? emptyDeletedBodies(document, logger, documentName, () => metrics?.hookError('emptyDeletedBodies')) : () => undefined,
    })
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.documents.get(documentName)?.stopWatching()
    this.documents.delete(documentName)
  }

  async beforeSync({ connection, document, documentName, type, payload }: beforeSyncPayload): Promise<void> {
    if (connection.readOnly || (type !== messageYjsSyncStep2 && type !== messageYjsUpdate)) return
    const context = connection.context as ConnectionContext
    const guard = this.documents.get(documentName)
    const refuse = (code: Code, reason: string, clients: Iterable<number> = []): never => {
      // A refused struct breaks its client's chain: refuse that client id until it rebuilds.
      // Rate limiting and missing dependencies are not the content's fault: a resync mends them.
      if (code !== ErrorCode.RateLimited && code !== ErrorCode.OutOfSync) guard?.clients.block(clients)
      this.configuration.metrics?.rejected(code)
      this.configuration.logger.warn({ documentName, userId: context.user.id, code }, `update refused: ${reason}`)
      sendParleyError(connection, documentName, { code, message: reason })
      this.noteAbuse(connection.socketId, context.user.id, code, connection.webSocket)
      throw new UpdateRefused(code, reason)
    }
    if (!guard || parseDocumentName(documentName)?.kind === 'feed') return refuse(ErrorCode.WriteRejected, 'this document is read-only')
    if (payload.byteLength > this.configuration.maxUpdateBytes) {
      return refuse(ErrorCode.TooLarge, `an update is at most ${this.configuration.maxUpdateBytes} bytes`, clientsOf(payload))
    }
    if (this.coolingDown(context.user.id)) return refuse(ErrorCode.RateLimited, 'too many refused messages; wait before writing again')
    const limited = () => !this.updateLimiter.take(`socket:${connection.socketId}`) || !this.updateLimiter.take(`user:${context.user.id}`)
    // An update always carries something: limit it before any decoding, so a flood costs little.
    if (type === messageYjsUpdate && limited()) return refuse(ErrorCode.RateLimited, 'too many updates; slow down and resync')
    const update = unseenPart(document, payload)
    // Every handshake ends with a sync step 2; only those that carry something new count.
    if (isEmptyUpdate(update)) return
    if (type === messageYjsSyncStep2 && limited()) return refuse(ErrorCode.RateLimited, 'too many updates; slow down and resync')
    // The sender's structs still pending (waiting for this update, perhaps) integrate with it: check them together.
    const pending = pendingOf(document, (client) => guard.clients.ownerOf(client) === context.user.id)
    const verdict = checkUpdate(
      {
        doc: document,
        kind: guard.kind,
        actor: { userId: context.user.id, role: context.role },
        places: guard.places,
        ownerOf: (client) => guard.clients.ownerOf(client),
        isBlocked: (client) => guard.clients.isBlocked(client),
      },
      pending ? Y.mergeUpdates([pending, update]) : update,
    )
    if (!verdict.ok) return refuse(verdict.code, verdict.reason, clientsOf(update))
    if (guard.bytes + update.byteLength > this.configuration.maxDocumentBytes) {
      return refuse(ErrorCode.TooLarge, `the document would pass ${this.configuration.maxDocumentBytes} bytes`, verdict.clients)
    }
    guard.bytes += update.byteLength
    const bound = guard.clients.bind(verdict.clients, context.user.id)
    // Stored before the update is acknowledged: a restart must not forget who owns a client id.
    if (bound.length > 0) await this.configuration.owners.bind(documentName, bound, context.user.id)
  }

  /**
   * Checks a server-side write made on behalf of a user (REST), exactly as a socket write from that
   * user would be checked; binds the write's client id to the user when it passes.
   */
  async checkServerWrite(input: { documentName: string; document: Y.Doc; update: Uint8Array; actor: { user: { id: string }; role: Role } }): Promise<ParleyErrorInfo | null> {
    const { documentName, document, update, actor } = input
    const guard = this.documents.get(documentName)
    if (!guard) return { code: ErrorCode.Internal, message: 'the document is not loaded' }
    const verdict = checkUpdate(
      {
        doc: document,
        kind: guard.kind,
        actor: { userId: actor.user.id, role: actor.role },
        places: guard.places,
        ownerOf: (client) => guard.clients.ownerOf(client),
        isBlocked: (client) => guard.clients.isBlocked(client),
      },
      update,
    )
    if (!verdict.ok) {
      this.configuration.metrics?.rejected(verdict.code)
      return { code: verdict.code, message: verdict.reason }
    }
    const bound = guard.clients.bind(verdict.clients, actor.user.id)
    if (bound.length > 0) await this.configuration.owners.bind(documentName, bound, actor.user.id)
    guard.bytes += update.byteLength
    return null
  }

  async beforeHandleAwareness({ connection, context, states, documentName }: beforeHandleAwarenessPayload): Promise<void> {
    if (!connection) return
    const user = (context as ConnectionContext | undefined)?.user
    const guard = this.documents.get(documentName)
    if (!user || !guard) {
      states.clear()
      return
    }
    if (!this.awarenessLimiter.take(`socket:${connection.socketId}`) || !this.awarenessLimiter.take(`user:${user.id}`)) {
      this.configuration.metrics?.rejected(ErrorCode.RateLimited)
      this.noteAbuse(connection.socketId, user.id, ErrorCode.RateLimited, connection.webSocket)
      this.configuration.metrics?.awarenessDropped(states.size)
      states.clear()
      return
    }
    const dropped = guard.awareness.filter(states, connection.socketId, user.id)
    if (dropped > 0) {
      this.configuration.metrics?.awarenessDropped(dropped)
      this.configuration.logger.warn({ documentName, userId: user.id, dropped }, 'awareness states dropped: not the user’s own')
    }
  }

  async onDisconnect({ documentName, socketId }: onDisconnectPayload): Promise<void> {
    this.documents.get(documentName)?.awareness.release(socketId)
  }

  /**
   * Persistent abuse (many rate-limited messages in a short window) closes the whole socket, and
   * the user's writes are refused for a while, wherever they connect from.
   */
  private noteAbuse(socketId: string, userId: string, code: Code, socket: { close(code?: number, reason?: string): void }): void {
    if (code !== ErrorCode.RateLimited) return
    if (this.abuse.hit(socketId) >= limits.ABUSE_LIMIT) {
      this.abuse.forget(socketId)
      this.cooldowns.set(userId, Date.now() + limits.ABUSE_COOLDOWN_MS)
      this.configuration.logger.warn({ socketId, userId }, 'closing a socket for persistent abuse')
      socket.close(4429, ErrorCode.RateLimited)
    }
  }

  private coolingDown(userId: string): boolean {
    const until = this.cooldowns.get(userId)
    if (until === undefined) return false
    if (until > Date.now()) return true
    this.cooldowns.delete(userId)
    return false
  }
}

/** Client ids an update carries structs for (best effort: an undecodable update has none). */
function clientsOf(update: Uint8Array): number[] {
  try {
    return [...Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update)).keys()]
  } catch {
    return []
  }
}
