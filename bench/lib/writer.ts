/**
 * A full Yjs client (@hocuspocus/provider) for writers and probe readers: real documents,
 * real updates, real acknowledgements.
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { addComments, commentBody, commentId, findMarkers } from './comments.ts'
import { withTimeout } from './wait.ts'

/** How long a full client waits to be synced. */
export const FULL_CONNECT_TIMEOUT_MS = 30_000

/** Reconnect delays of bench providers: a drop should show, not be papered over slowly. */
const RECONNECT_DELAY_MS = 100

/** The `ws` client without per-message deflate (as the light readers use it). */
class PlainWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { perMessageDeflate: false })
  }
}

export interface FullClientOptions {
  url: string
  documentName: string
  token: string
  userId: string
  /** Called with the sequence numbers of bench comments in each update received from the server. */
  onRemoteSeq?: (seq: number, at: number) => void
}

export class FullClient {
  readonly doc = new Y.Doc()
  readonly userId: string
  readonly documentName: string
  readonly socket: HocuspocusProviderWebsocket
  readonly provider: HocuspocusProvider
  startedAt = Number.NaN
  syncedAt = Number.NaN
  authFailure: string | undefined
  /** Times the socket closed after being synced. */
  disconnects = 0

  constructor(options: FullClientOptions) {
    this.userId = options.userId
    this.documentName = options.documentName
    this.socket = new HocuspocusProviderWebsocket({
      url: options.url,
      WebSocketPolyfill: PlainWebSocket,
      delay: RECONNECT_DELAY_MS,
      minDelay: RECONNECT_DELAY_MS,
      maxDelay: RECONNECT_DELAY_MS * 10,
      onDisconnect: () => {
        if (!Number.isNaN(this.syncedAt)) this.disconnects++
      },
    })
    this.provider = new HocuspocusProvider({
      websocketProvider: this.socket,
      name: options.documentName,
      token: options.token,
      document: this.doc,
      onAuthenticationFailed: ({ reason }) => {
        this.authFailure = reason
      },
    })
    const onRemoteSeq = options.onRemoteSeq
    if (onRemoteSeq) {
      this.doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin !== this.provider) return
        const at = performance.now()
        findMarkers(update, (seq) => onRemoteSeq(seq, at))
      })
    }
  }

  /** Attaches and resolves once synced (or rejects on refusal or timeout). */
  async connect(timeoutMs: number = FULL_CONNECT_TIMEOUT_MS): Promise<void> {
    this.startedAt = performance.now()
    const synced = new Promise<void>((resolve, reject) => {
      this.provider.on('synced', () => {
        if (Number.isNaN(this.syncedAt)) this.syncedAt = performance.now()
        resolve()
      })
      this.provider.on('authenticationFailed', ({ reason }: { reason: string }) => reject(new Error(`refused: ${reason}`)))
    })
    this.provider.attach()
    await withTimeout(synced, timeoutMs, `${this.documentName} (${this.userId}) synced`)
  }

  get connectMs(): number {
    return this.syncedAt - this.startedAt
  }

  /** Updates sent and not acknowledged yet. */
  get unacknowledged(): number {
    return this.provider.unsyncedChanges
  }

  /**
   * Adds `count` schema-valid comments (sequence numbers `seq`…) of about `bodyChars` characters
   * to a thread, in one update; the first write creates the thread.
   */
  write(threadId: string, seq: number, bodyChars: number, count = 1): void {
    const comments = Array.from({ length: count }, (_, i) => ({ commentId: commentId(seq + i), body: commentBody(seq + i, bodyChars) }))
    addComments(this.doc, this.userId, threadId, comments)
  }

  destroy(): void {
    this.provider.destroy()
    this.socket.destroy()
  }
}
