/**
 * One document held by the client: a Y.Doc, its provider on the shared socket, and its binding
 * to the local store. The holder can swap its document (`reset`): the write guard's rollback
 * rebuilds from the server's state under a new client id and purges the local store.
 */
import { HocuspocusProvider, type HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { ErrorCode, isErrorCode, ParleyError, parseAuthReason, type ParleyErrorInfo, type ParleyErrorMessage } from '../protocol/index.ts'
import { Acknowledgements } from './acknowledgements.ts'
import { createBackoff } from './backoff.ts'
import { Emitter } from './events.ts'
import type { LocalStore } from './stores/types.ts'

/** Transaction origin of updates read back from the local store (not stored again). */
export const FROM_LOCAL_STORE = Symbol('parley.local-store')

/** How many times in a row an expired token is replaced before giving up. */
export const MAX_TOKEN_REFRESHES = 3
/** Upper bound of the first random wait before opening a document again after the server refused or closed it. */
export const RESYNC_BASE_MS = 500
/** Upper bound of that wait as it grows. */
export const RESYNC_MAX_MS = 10_000

export type TokenSource = string | (() => string | Promise<string>)

export interface SessionEvents {
  /** The document changed (local or remote); batched by the caller. */
  change: undefined
  /** Local changes not yet acknowledged by the server, stored ones from before a restart included. */
  sending: number
  synced: boolean
  /**
   * A per-document error: authentication refused, a `parley.error` message, a local store failure.
   * After a rollback it lists the operations dropped and those applied again.
   */
  error: ParleyErrorInfo & { documentName: string; rolledBack?: string[]; reapplied?: string[] }
  /** The document was swapped; holders of the old one must re-read. */
  reset: undefined
  /** The server refused local changes (`write_rejected`, `too_large`): the holder rolls back. */
  rejected: ParleyErrorInfo
  /** A provider (with its own Awareness) was attached: at start, and after each reset. */
  awareness: Awareness
}

export interface SessionOptions {
  documentName: string
  socket: HocuspocusProviderWebsocket
  token: TokenSource
  store: LocalStore | undefined
}

function parleyErrorFrom(payload: string): ParleyErrorMessage | null {
  try {
    const message = JSON.parse(payload) as Partial<ParleyErrorMessage>
    if (message.type === 'parley.error' && isErrorCode(message.code)) return message as ParleyErrorMessage
  } catch {
    // Not JSON: a stateless message meant for someone else.
  }
  return null
}

/** Authenticates the document again and restarts its sync, as the provider does on a new socket. */
async function reauthenticate(provider: HocuspocusProvider): Promise<void> {
  await provider.sendToken()
  provider.startSync()
}

export class DocumentSession {
  readonly documentName: string
  readonly events = new Emitter<SessionEvents>()
  private readonly options: SessionOptions
  private current: { doc: Y.Doc; provider: HocuspocusProvider | null; release: () => void }
  private closed = false
  private tokenRefreshes = 0
  private readonly resync = createBackoff(RESYNC_BASE_MS, RESYNC_MAX_MS)
  /** Why the server last refused this document for good (cleared by the next sync); see `whenSynced`. */
  private refusal: ParleyErrorInfo | null = null
  private readonly acks: Acknowledgements
  private readonly waiting = new Set<{ resolve: () => void; reject: (error: ParleyError) => void }>()
  /** Resolves once the local store's state is in the document and the provider is attached. */
  readonly ready: Promise<void>

  constructor(options: SessionOptions) {
    this.options = options
    this.documentName = options.documentName
    this.acks = new Acknowledgements(options.store, options.documentName, (error) =>
      this.report({ code: ErrorCode.Internal, message: `local store could not save the acknowledged state: ${String(error)}` }),
    )
    this.current = { doc: new Y.Doc(), provider: null, release: () => undefined }
    this.ready = this.start(this.current.doc)
  }

  get doc(): Y.Doc {
    return this.current.doc
  }

  /**
   * Resolves once local data is loaded and the first sync with the server completed. Rejects with a
   * {@link ParleyError} when the server refuses the document for good (`forbidden`, `token_invalid`,
   * `token_expired` past the refreshes, `token_missing`, `access_revoked`, `too_many_documents`,
   * `invalid_document_name`, …), also when called after such a refusal; `storage_unavailable`,
   * `rate_limited` and `out_of_sync` are retried and keep it waiting.
   */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve()
    if (this.refusal) return Promise.reject(new ParleyError(this.refusal.code, this.refusal.message))
    return new Promise((resolve, reject) => this.waiting.add({ resolve, reject }))
  }

  private settleWaiting(refusal: ParleyErrorInfo | null): void {
    const waiting = [...this.waiting]
    this.waiting.clear()
    for (const waiter of waiting) {
      if (refusal) waiter.reject(new ParleyError(refusal.code, refusal.message))
      else waiter.resolve()
    }
  }

  /** The server will not serve this document until something changes (a new token, a role): waits reject. */
  private refused(error: ParleyErrorInfo): void {
    this.refusal = error
    this.settleWaiting(error)
  }

  /** False from a refusal for good (e.g. `access_revoked` after a sync) until the next sync. */
  get synced(): boolean {
    return this.refusal === null && (this.current.provider?.isSynced ?? false)
  }

  /**
   * Changes not yet acknowledged: the provider's unsynced updates, plus the stored updates the
   * server had not acknowledged when the document was loaded (until it acknowledges them).
   */
  get sending(): number {
    return this.acks.restored + (this.current.provider?.unsyncedChanges ?? 0)
  }

  /** The current provider's Awareness; null until the provider is attached (see the `awareness` event). */
  get awareness(): Awareness | null {
    return this.current.provider?.awareness ?? null
  }

  private report(error: ParleyErrorInfo): void {
    this.events.emit('error', { ...error, documentName: this.documentName })
  }

  private async start(doc: Y.Doc): Promise<void> {
    const { store, documentName } = this.options
    // Listen before loading: edits made while the store loads are stored too.
    const unbindDocument = this.bindDocument(doc)
    this.current.release = unbindDocument
    if (store) {
      try {
        const stored = await store.load(documentName)
        if (stored) Y.applyUpdate(doc, stored, FROM_LOCAL_STORE)
        await this.acks.load()
      } catch (error) {
        this.report({ code: ErrorCode.Internal, message: `local store could not load: ${String(error)}` })
      }
    }
    if (this.closed || doc !== this.current.doc) return
    const provider = this.bindProvider(doc)
    this.current.provider = provider
    this.current.release = () => {
      unbindDocument()
      provider.destroy()
    }
    if (provider.awareness) this.events.emit('awareness', provider.awareness)
    if (this.acks.restored > 0) this.events.emit('sending', this.sending)
  }

  /** Saves every update that did not come from the store, and reports changes. */
  private bindDocument(doc: Y.Doc): () => void {
    const { store, documentName } = this.options
    const onUpdate = (update: Uint8Array, origin: unknown) => {
      if (store && origin !== FROM_LOCAL_STORE) {
        store.append(documentName, update).catch((error: unknown) => {
          this.report({ code: ErrorCode.Internal, message: `local store could not save: ${String(error)}` })
        })
      }
      // An update from the server while nothing local is pending: the store learns the new state.
      const provider = this.current.provider
      if (provider !== null && origin === provider && provider.isSynced && provider.unsyncedChanges === 0) this.acks.acknowledged(doc)
      this.events.emit('change', undefined)
    }
    doc.on('update', onUpdate)
    return () => doc.off('update', onUpdate)
  }

  private bindProvider(doc: Y.Doc): HocuspocusProvider {
    const { documentName, socket, token } = this.options
    const provider = new HocuspocusProvider({
      websocketProvider: socket,
      name: documentName,
      document: doc,
      token: typeof token === 'function' ? async () => token() : token,
      onSynced: ({ state }) => {
        if (state) {
          this.tokenRefreshes = 0
          this.resync.reset()
          this.refusal = null
          this.settleWaiting(null)
        }
        this.events.emit('synced', state)
      },
      onUnsyncedChanges: ({ number }) => {
        if (number === 0 && provider.isSynced) this.acks.acknowledged(doc)
        this.events.emit('sending', this.sending)
      },
      onAuthenticationFailed: ({ reason }) => this.onAuthenticationFailed(provider, reason),
      onStateless: ({ payload }) => {
        const message = parleyErrorFrom(payload)
        if (message) this.onParleyError(provider, { code: message.code, message: message.reason })
      },
    })
    provider.attach()
    return provider
  }

  private onAuthenticationFailed(provider: HocuspocusProvider, reason: string): void {
    const parsed = parseAuthReason(reason) ?? { code: ErrorCode.Forbidden, message: reason }
    // An expired token is replaced by calling the token function again.
    if (parsed.code === ErrorCode.TokenExpired && typeof this.options.token === 'function' && this.tokenRefreshes < MAX_TOKEN_REFRESHES) {
      this.tokenRefreshes++
      void reauthenticate(provider)
      return
    }
    this.report(parsed)
    // The server could not load the document (storage down): ask again later.
    if (parsed.code === ErrorCode.StorageUnavailable) this.resyncLater(provider)
    else this.refused(parsed)
  }

  /**
   * A `parley.error` for this document. The server closes the document session after refusing
   * an update, so the provider stops sending (detached) until the session is opened again.
   */
  private onParleyError(provider: HocuspocusProvider, error: ParleyErrorInfo): void {
    // Refusals are reported once, after the rollback, with what it dropped.
    if (error.code !== ErrorCode.WriteRejected && error.code !== ErrorCode.TooLarge) this.report(error)
    switch (error.code) {
      case ErrorCode.RateLimited:
      case ErrorCode.OutOfSync:
        // Nothing was wrong with the changes: a fresh handshake sends them again, later.
        provider.detach()
        this.resyncLater(provider)
        return
      case ErrorCode.WriteRejected:
      case ErrorCode.TooLarge:
        provider.detach()
        this.events.emit('rejected', error)
        return
      case ErrorCode.AccessRevoked:
        provider.detach()
        this.refused(error)
        return
      default:
        return
    }
  }

  private resyncLater(provider: HocuspocusProvider): void {
    this.resync.schedule(() => {
      if (this.closed || provider !== this.current.provider) return
      if (provider.isAttached) void reauthenticate(provider)
      else provider.attach()
    })
  }

  /**
   * Swaps in a fresh document built from the server's state: a new Y.Doc (so a new client id),
   * the local store purged. Returns the old document so that the caller can re-apply what it keeps.
   */
  async reset(): Promise<Y.Doc> {
    const old = this.current
    old.release()
    this.acks.forget()
    if (this.options.store) await this.options.store.clear(this.documentName)
    const doc = new Y.Doc()
    this.current = { doc, provider: null, release: () => undefined }
    await this.start(doc)
    this.events.emit('reset', undefined)
    this.events.emit('change', undefined)
    return old.doc
  }

  /** Detaches from the server and releases the document; the local store keeps its data. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.resync.cancel()
    this.acks.forget()
    this.current.release()
    this.current.doc.destroy()
    this.events.clear()
  }
}
