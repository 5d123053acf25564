/**
 * A `ws` WebSocket under flow control. What its gate calls (deliver, refuse, who is who) are
 * methods of one small object per socket, and the `send` and `close` it watches are functions
 * shared by every socket: a closure per socket for each of them held ~1 KB a socket at 10,000
 * sockets (measured from a heap snapshot; issue 22).
 */
import type { Logger } from 'pino'
import { WebSocket } from 'ws'
import { ErrorCode, parleyErrorMessage } from '../../protocol/index.ts'
import { outgoingRefusal, statelessFrame } from './frame.ts'
import type { GateRefusal, GateSocket, SocketGate } from './gate.ts'
import type { SocketDocuments } from './registry.ts'

/** A refusal that closes a socket. */
export interface SocketRefusal {
  code: ErrorCode
  documentName: string | null
  /** Who was refused (the user id, or the remote address when unknown): repeats are counted per sender. */
  sender: string
  /** What makes two refusals the same one (e.g. the client ids of the refused update). */
  detail?: string
}

/** What every socket of one flow control shares. */
export interface FlowSocketHost {
  readonly extension: SocketDocuments
  readonly logger: Logger
  /** Closes the socket after a refusal, with the backoff for repeats. */
  closeForRefusal(ws: WebSocket, refusal: SocketRefusal): void
  /** The code of a refusal close held back for this socket, if any. */
  heldCode(ws: WebSocket): number | undefined
}

export class FlowSocket implements GateSocket {
  readonly ws: WebSocket
  readonly remoteAddress: string
  /** Set right after the gate is made (the gate needs this socket first). */
  gate: SocketGate | undefined = undefined
  private readonly deliverTo: (frame: Uint8Array) => void
  private readonly host: FlowSocketHost

  constructor(ws: WebSocket, remoteAddress: string, deliverTo: (frame: Uint8Array) => void, host: FlowSocketHost) {
    this.ws = ws
    this.remoteAddress = remoteAddress
    this.deliverTo = deliverTo
    this.host = host
  }

  pause(): void {
    this.ws.pause()
  }

  resume(): void {
    this.ws.resume()
  }

  deliver(frame: Uint8Array): void {
    this.deliverTo(frame)
  }

  userOf(documentName: string): string | undefined {
    return this.host.extension.userOf(this.ws, documentName)
  }

  /** Who a refusal counts against: the user of the document, else the remote address. */
  senderOf(documentName: string | null): string {
    return (documentName === null ? undefined : this.userOf(documentName)) ?? this.remoteAddress
  }

  refuse(refusal: GateRefusal): void {
    if (refusal.address !== null && refusal.documentName !== null) {
      const message = parleyErrorMessage(refusal.documentName, { code: refusal.code, message: refusal.message })
      this.ws.send(statelessFrame(refusal.address, JSON.stringify(message)))
    }
    this.host.logger.warn({ code: refusal.code, documentName: refusal.documentName, remoteAddress: this.remoteAddress }, `flow control: ${refusal.message}`)
    this.host.closeForRefusal(this.ws, { code: refusal.code, documentName: refusal.documentName, sender: this.senderOf(refusal.documentName), detail: 'flow' })
  }

  /**
   * A frame the server sent. Storage trouble told to a client (a refused authentication while
   * loading, or a failed append's `parley.error`) is followed by a socket close with the refusal
   * backoff: a provider never retries a refused authentication by itself, and one whose append
   * failed would otherwise reconnect at its own pace while storage is down.
   */
  sent(frame: Uint8Array): void {
    const told = outgoingRefusal(frame)
    if (told?.code === ErrorCode.StorageUnavailable) {
      this.host.closeForRefusal(this.ws, { code: ErrorCode.StorageUnavailable, documentName: told.documentName, sender: this.remoteAddress, detail: 'storage' })
    }
  }

  /**
   * Whoever closes the socket (a refusal, Hocuspocus's timeout, storage trouble, shutdown), the
   * gate stops delivering and the socket is read again for the closing handshake. A close with the
   * code of a refusal close already held back waits for that one. False: leave the socket open.
   */
  closing(code: number | undefined): boolean {
    if (code !== undefined && code === this.host.heldCode(this.ws)) return false
    this.gate?.closing()
    return true
  }
}

const flowSockets = new WeakMap<WebSocket, FlowSocket>()

/** The flow-control side of a socket, once {@link watchSocket} ran for it. */
export function flowSocketOf(ws: object): FlowSocket | undefined {
  return flowSockets.get(ws as WebSocket)
}

/** `send` of a watched socket: sends, then shows the frame to its {@link FlowSocket}. */
function watchedSend(this: WebSocket, data: Parameters<WebSocket['send']>[0], ...rest: unknown[]): void {
  Reflect.apply(WebSocket.prototype.send, this, [data, ...rest])
  if (data instanceof Uint8Array) flowSockets.get(this)?.sent(data)
}

/** `close` of a watched socket: its {@link FlowSocket} may hold it back. */
function watchedClose(this: WebSocket, code?: number, reason?: string | Buffer): void {
  if (flowSockets.get(this)?.closing(code) === false) return
  WebSocket.prototype.close.call(this, code, reason)
}

/** Sees what the server sends on the socket and who closes it (shared functions, no closure per socket). */
export function watchSocket(socket: FlowSocket): void {
  flowSockets.set(socket.ws, socket)
  socket.ws.send = watchedSend
  socket.ws.close = watchedClose
}
