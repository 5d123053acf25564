/**
 * One multiplexed WebSocket for all of a client's documents, with a connection status and full
 * jitter on reconnects: the provider waits a fixed delay before its first retry after a close,
 * so every client of a restarted server would come back at the same instant.
 */
import { HocuspocusProviderWebsocket, WebSocketStatus } from '@hocuspocus/provider'
import { Emitter } from './events.ts'

/** Upper bound of the random wait before the first reconnect after a close. */
export const RECONNECT_BASE_DELAY_MS = 1_000
/** Upper bound of the random wait between later attempts. */
export const RECONNECT_MAX_DELAY_MS = 30_000

export type ConnectionStatus = 'connecting' | 'connected' | 'offline'

export interface ReconnectOptions {
  baseDelayMs: number
  maxDelayMs: number
}

export interface Connection {
  readonly socket: HocuspocusProviderWebsocket
  readonly status: ConnectionStatus
  onStatus(listener: (status: ConnectionStatus) => void): () => void
  /** Goes offline on purpose, or back online; safe to call in any order and any number of times. */
  setOnline(online: boolean): void
  destroy(): void
}

function toStatus(status: WebSocketStatus): ConnectionStatus {
  if (status === WebSocketStatus.Connected) return 'connected'
  if (status === WebSocketStatus.Connecting) return 'connecting'
  return 'offline'
}

export function openConnection(url: string, reconnect: ReconnectOptions, WebSocketPolyfill?: unknown): Connection {
  const socket = new HocuspocusProviderWebsocket({
    url,
    // Full jitter for retries: a random wait between 0 and the exponentially growing delay.
    delay: reconnect.baseDelayMs,
    minDelay: 0,
    maxDelay: reconnect.maxDelayMs,
    factor: 2,
    jitter: true,
    ...(WebSocketPolyfill ? { WebSocketPolyfill } : {}),
  })
  const events = new Emitter<{ status: ConnectionStatus }>()
  let status: ConnectionStatus = toStatus(socket.status)
  let wantOnline = true
  /** A deliberate disconnect whose close event has not arrived yet. */
  let closing = false

  const onStatus = ({ status: next }: { status: WebSocketStatus }) => {
    if (next === WebSocketStatus.Disconnected && closing) {
      closing = false
      // Connecting again before the old socket's close event arrives would let that event tear
      // down the new socket: reconnect only now.
      if (wantOnline) void socket.connect()
    }
    const mapped = toStatus(next)
    if (mapped === status) return
    status = mapped
    events.emit('status', mapped)
  }
  // After a close the provider schedules its first retry after exactly `delay`; replace that
  // timer with a random one in [0, delay) so that reconnects spread out from the first retry.
  const onDisconnect = () => {
    queueMicrotask(() => {
      if (socket.reconnectTimeout === null) return
      clearTimeout(socket.reconnectTimeout)
      socket.reconnectTimeout = setTimeout(() => {
        socket.reconnectTimeout = null
        void socket.connect()
      }, Math.random() * reconnect.baseDelayMs)
    })
  }
  socket.on('status', onStatus)
  socket.on('disconnect', onDisconnect)

  return {
    socket,
    get status() {
      return status
    },
    onStatus: (listener) => events.on('status', listener),
    setOnline(online) {
      wantOnline = online
      if (!online) {
        // A close event follows only when a socket is open (not while a retry is pending).
        if (socket.webSocket !== null && socket.status !== WebSocketStatus.Disconnected) closing = true
        socket.disconnect()
      } else if (!closing) {
        void socket.connect()
      }
    },
    destroy() {
      socket.off('status', onStatus)
      socket.off('disconnect', onDisconnect)
      events.clear()
      socket.destroy()
    },
  }
}
