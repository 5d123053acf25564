/**
 * A light presence client for the `presence` scenario: one `ws` socket that authenticates,
 * syncs (step 1 only) and sends contract awareness states under its own client id with a growing
 * clock, and counts the awareness frames it receives. A probe also decodes them: it timestamps
 * the first arrival of each typing state and keeps every client's latest state. No Yjs.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket, { type RawData } from 'ws'
import { LIGHT_CONNECT_TIMEOUT_MS } from './light-client.ts'
import { AuthType, MessageType, SyncStep, authFrame, readDeniedReason, readHead, syncStep1Frame } from './wire.ts'

export interface PresenceClientOptions {
  url: string
  documentName: string
  token: string
  userId: string
  /** The awareness client id (> 0, unique in the room). */
  clientId: number
  /** Decode frames: typing latencies and latest states. */
  probe?: boolean
}

/** A contract awareness state as the bench sends it. */
export interface BenchState {
  user: { id: string; name: string }
  status: 'active' | 'idle'
  typing: { threadId: string | null; at: number } | null
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}

export class PresenceClient {
  readonly options: PresenceClientOptions
  private socket: WebSocket | undefined
  private clock = 0
  private closing = false
  /** The server closed the socket (a drop). */
  dropped = false
  /** Awareness frames received while counting. */
  frames = 0
  counting = false
  /** Each typing state's first arrival, probes only: its `at` and arrival − `at` (ms). */
  readonly typings: Array<{ at: number; latencyMs: number }> = []
  /** Latest state JSON per client id, probes only. */
  readonly latest = new Map<number, string>()
  private readonly typingSeen = new Set<string>()

  constructor(options: PresenceClientOptions) {
    this.options = options
  }

  connect(timeoutMs: number = LIGHT_CONNECT_TIMEOUT_MS): Promise<void> {
    const { url, documentName, token } = this.options
    return new Promise<void>((resolve, reject) => {
      let synced = false
      const fail = (reason: string) => {
        clearTimeout(timer)
        if (!synced) reject(new Error(`${this.options.userId}: ${reason}`))
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
        const frame = toBuffer(data)
        const head = readHead(frame)
        if (head.type === MessageType.Awareness) {
          if (this.counting) this.frames++
          if (this.options.probe) this.decode(frame, head.offset, Date.now())
        } else if (head.type === MessageType.Sync && head.sub === SyncStep.Step2 && !synced) {
          synced = true
          clearTimeout(timer)
          resolve()
        } else if (head.type === MessageType.Auth && head.sub === AuthType.PermissionDenied) {
          fail(`refused: ${readDeniedReason(frame, head.offset)}`)
        }
      })
      socket.on('error', (error: Error) => fail(error.message))
      socket.on('close', () => {
        if (!this.closing) this.dropped = true
        fail('closed by the server')
      })
    })
  }

  private decode(frame: Buffer, offset: number, at: number): void {
    const decoder = decoding.createDecoder(frame)
    decoder.pos = offset
    const update = decoding.createDecoder(decoding.readVarUint8Array(decoder))
    const count = decoding.readVarUint(update)
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(update)
      decoding.readVarUint(update)
      const json = decoding.readVarString(update)
      this.latest.set(clientId, json)
      const typing = (JSON.parse(json) as BenchState | null)?.typing
      if (!typing) continue
      const key = `${clientId}|${typing.at}`
      if (this.typingSeen.has(key)) continue
      this.typingSeen.add(key)
      this.typings.push({ at: typing.at, latencyMs: at - typing.at })
    }
  }

  /** Sends this client's state (a heartbeat when it is unchanged), with the next clock. */
  send(state: BenchState): void {
    const socket = this.socket
    if (!socket || socket.readyState !== WebSocket.OPEN) return
    const update = encoding.createEncoder()
    encoding.writeVarUint(update, 1)
    encoding.writeVarUint(update, this.options.clientId)
    encoding.writeVarUint(update, ++this.clock)
    encoding.writeVarString(update, JSON.stringify(state))
    const message = encoding.createEncoder()
    encoding.writeVarString(message, this.options.documentName)
    encoding.writeVarUint(message, MessageType.Awareness)
    encoding.writeVarUint8Array(message, encoding.toUint8Array(update))
    socket.send(encoding.toUint8Array(message))
  }

  close(): void {
    this.closing = true
    const socket = this.socket
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) socket.terminate()
  }
}
