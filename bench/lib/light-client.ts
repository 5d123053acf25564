/**
 * A light reader: one `ws` socket speaking just enough Hocuspocus (auth, sync step 1) to be
 * synced and receive updates, timestamping each update frame on arrival. No Yjs: the load
 * generator must not be the bottleneck, so a reader costs a socket and a few fields.
 */
import WebSocket, { type RawData } from 'ws'
import { AuthType, MessageType, SyncStep, authFrame, emptyAwarenessFrame, readDeniedReason, readHead, syncStep1Frame } from './wire.ts'

/** How long a light reader waits from opening its socket to being synced. */
export const LIGHT_CONNECT_TIMEOUT_MS = 30_000

/**
 * Keep-alive period: Hocuspocus closes a connection that sent nothing for 60 s, so a reader that
 * stays longer sends an empty awareness update this often (jittered by up to a quarter).
 */
export const KEEPALIVE_MS = 20_000

export interface LightClientOptions {
  url: string
  documentName: string
  token: string
  /** Called for each sync update frame, with its arrival time (performance clock). */
  onUpdate?: (frame: Buffer, at: number) => void
  /** Send keep-alives (for runs longer than the server's idle timeout). */
  keepAlive?: boolean
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}

export class LightClient {
  readonly documentName: string
  /** Performance-clock times of the connection's milestones (NaN until reached). */
  startedAt = Number.NaN
  authenticatedAt = Number.NaN
  syncedAt = Number.NaN
  closedAt = Number.NaN
  closeCode = 0
  /** Why the client failed, if it did. */
  failure: string | undefined
  /** Update frames received, and all bytes received (frames of every kind). */
  updates = 0
  bytes = 0
  private socket: WebSocket | undefined
  private keepAliveTimer: NodeJS.Timeout | undefined
  private closing = false
  private closedByServer = false
  private readonly options: LightClientOptions

  constructor(options: LightClientOptions) {
    this.options = options
    this.documentName = options.documentName
  }

  /** Connects, authenticates and syncs; resolves once synced, rejects on refusal, close or timeout. */
  connect(timeoutMs: number = LIGHT_CONNECT_TIMEOUT_MS): Promise<void> {
    const { url, documentName, token } = this.options
    this.startedAt = performance.now()
    return new Promise<void>((resolve, reject) => {
      const fail = (reason: string) => {
        if (this.failure === undefined && Number.isNaN(this.syncedAt)) this.failure = reason
        clearTimeout(timer)
        reject(new Error(`${documentName}: ${reason}`))
        this.close()
      }
      const timer = setTimeout(() => fail(`not synced within ${timeoutMs} ms`), timeoutMs)
      const socket = new WebSocket(url, { perMessageDeflate: false })
      this.socket = socket
      socket.on('open', () => {
        socket.send(authFrame(documentName, token))
        socket.send(syncStep1Frame(documentName))
      })
      socket.on('message', (data: RawData) => {
        const at = performance.now()
        const frame = toBuffer(data)
        this.bytes += frame.byteLength
        const head = readHead(frame)
        if (head.type === MessageType.Sync && head.sub === SyncStep.Update) {
          this.updates++
          this.options.onUpdate?.(frame, at)
        } else if (head.type === MessageType.Sync && head.sub === SyncStep.Step2 && Number.isNaN(this.syncedAt)) {
          this.syncedAt = at
          clearTimeout(timer)
          this.startKeepAlive()
          resolve()
        } else if (head.type === MessageType.Auth && head.sub === AuthType.Authenticated) {
          this.authenticatedAt = at
        } else if (head.type === MessageType.Auth && head.sub === AuthType.PermissionDenied) {
          fail(`refused: ${readDeniedReason(frame, head.offset)}`)
        }
      })
      socket.on('error', (error: Error) => fail(error.message))
      socket.on('close', (code: number) => {
        this.closedAt = performance.now()
        this.closeCode = code
        this.stopKeepAlive()
        if (this.closing) return
        this.closedByServer = true
        fail(`closed by the server (${code})`)
      })
    })
  }

  get synced(): boolean {
    return !Number.isNaN(this.syncedAt)
  }

  /** Closed without us asking (a drop). */
  get dropped(): boolean {
    return this.closedByServer
  }

  /** Time from opening the socket to synced, in ms. */
  get connectMs(): number {
    return this.syncedAt - this.startedAt
  }

  private startKeepAlive(): void {
    if (!this.options.keepAlive) return
    const period = KEEPALIVE_MS * (0.75 + Math.random() * 0.25)
    this.keepAliveTimer = setInterval(() => {
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(emptyAwarenessFrame(this.documentName))
    }, period)
    this.keepAliveTimer.unref()
  }

  private stopKeepAlive(): void {
    clearInterval(this.keepAliveTimer)
    this.keepAliveTimer = undefined
  }

  close(): void {
    this.closing = true
    this.stopKeepAlive()
    const socket = this.socket
    if (!socket) return
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate()
  }
}
