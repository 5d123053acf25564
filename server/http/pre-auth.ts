/**
 * Limits on a WebSocket until its first document is authenticated. Until then Hocuspocus queues
 * what the client sends for documents it has not authenticated, in memory, for a client that may
 * hold no token at all; after it, the socket's user is known and per-user limits apply.
 *
 * - Deadline: a socket that authenticated no document within `deadlineMs` of opening is closed
 *   with {@link PRE_AUTH_TIMEOUT_CLOSE} (4408).
 * - Bytes: a socket may send `maxBytes` before its first authentication, counted as read from the
 *   TCP socket (every frame, whatever flow control then does with it). The read that passes them
 *   pauses the socket; once that read's frames reached Hocuspocus, the socket is closed with
 *   {@link PRE_AUTH_OVERFLOW_CLOSE} (4205) unless an authentication is under way on it: a
 *   reconnecting client sends all its documents' frames before the first one is decided, and is
 *   read again when it is. A refused authentication ends the wait. So at most one network read
 *   (64 KiB) past the budget is ever taken from an unauthenticated client; one closed for its
 *   bytes is not read again (its answer to the close included) and is cut after the grace.
 *
 * Hocuspocus's own queue limits ({@link pendingAuthOptions}) bound every socket, authenticated or
 * not, and must leave room for such a reconnect.
 */
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import type { WebSocket } from 'ws'
import type { AuthenticationWatch } from '../../extensions/auth/index.ts'
import {
  PENDING_AUTH_MAX_BYTES,
  PENDING_AUTH_MAX_FRAMES,
  PRE_AUTH_CLOSE_GRACE_MS,
  PRE_AUTH_DEADLINE_MS,
  PRE_AUTH_MAX_BYTES,
  PRE_AUTH_OVERFLOW_CLOSE,
  PRE_AUTH_TIMEOUT_CLOSE,
} from './connection-limits.ts'
import type { ConnectionMetrics, PreAuthClose } from './connection-metrics.ts'

export interface PreAuthLimits {
  /** Opening to first authenticated document. */
  deadlineMs: number
  /** Bytes read before the first authenticated document. */
  maxBytes: number
  /** Time a closed socket has to answer the close before it is cut. */
  closeGraceMs: number
}

export const DEFAULT_PRE_AUTH_LIMITS: PreAuthLimits = {
  deadlineMs: PRE_AUTH_DEADLINE_MS,
  maxBytes: PRE_AUTH_MAX_BYTES,
  closeGraceMs: PRE_AUTH_CLOSE_GRACE_MS,
}

/** Hocuspocus settings bounding what it queues on a socket for documents whose authentication has not finished. */
export function pendingAuthOptions(maxDocumentsPerSocket: number): {
  maxUnauthenticatedQueueSize: number
  maxUnauthenticatedQueueMessages: number
  maxPendingDocuments: number
} {
  // A reconnect opens every document of the socket at once: as many pending as may be open.
  return {
    maxUnauthenticatedQueueSize: PENDING_AUTH_MAX_BYTES,
    maxUnauthenticatedQueueMessages: PENDING_AUTH_MAX_FRAMES,
    maxPendingDocuments: maxDocumentsPerSocket,
  }
}

export interface PreAuthGuard {
  /** Watches a new socket until one of its documents is authenticated; `request` is the one Hocuspocus gets for it. */
  watch(ws: WebSocket, socket: Duplex, request: Request, address: string): void
  /** For the Authentication extension: attempts on each socket, and the first success. */
  readonly authentication: AuthenticationWatch
}

export interface PreAuthOptions {
  limits: PreAuthLimits
  logger: Logger
  metrics?: ConnectionMetrics | undefined
}

interface Watched {
  ws: WebSocket
  socket: Duplex
  request: Request
  address: string
  bytes: number
  /** Authentications started and not yet ended. */
  underWay: number
  over: boolean
  /** Authenticated, closed or closing: no longer watched. */
  done: boolean
  deadline: NodeJS.Timeout | undefined
  onData: (chunk: Buffer | string) => void
  onClose: () => void
}

export function createPreAuthGuard(options: PreAuthOptions): PreAuthGuard {
  const { limits, logger, metrics } = options
  const byRequest = new WeakMap<Request, Watched>()

  function stop(watched: Watched): void {
    if (watched.done) return
    watched.done = true
    clearTimeout(watched.deadline)
    watched.socket.off('data', watched.onData)
    // Nothing of the watch stays with a socket that authenticated: it lives on for hours.
    watched.ws.off('close', watched.onClose)
    byRequest.delete(watched.request)
    metrics?.preAuthSockets(-1)
  }

  function close(watched: Watched, reason: PreAuthClose): void {
    if (watched.done) return
    stop(watched)
    metrics?.preAuthClosed(reason)
    logger.debug({ remoteAddress: watched.address, bytes: watched.bytes, reason }, 'closing a socket that authenticated no document')
    const { code, reason: text } = reason === 'deadline' ? PRE_AUTH_TIMEOUT_CLOSE : PRE_AUTH_OVERFLOW_CLOSE
    const { ws } = watched
    ws.close(code, text)
    // A client that does not answer the close keeps its socket no longer than the grace.
    const cut = setTimeout(() => ws.terminate(), limits.closeGraceMs)
    cut.unref()
    ws.once('close', () => clearTimeout(cut))
  }

  function check(watched: Watched): void {
    if (!watched.done && watched.over && watched.underWay === 0) close(watched, 'bytes')
  }

  return {
    watch(ws, socket, request, address) {
      const watched: Watched = {
        ws,
        socket,
        request,
        address,
        bytes: 0,
        underWay: 0,
        over: false,
        done: false,
        deadline: undefined,
        onData: () => undefined,
        onClose: () => stop(watched),
      }
      watched.onData = (chunk) => {
        watched.bytes += chunk.length
        metrics?.preAuthBytes(chunk.length)
        if (watched.over || watched.bytes <= limits.maxBytes) return
        watched.over = true
        socket.pause()
        // After the frames of this read reached Hocuspocus: their authentications have started.
        setImmediate(() => check(watched))
      }
      watched.deadline = setTimeout(() => close(watched, 'deadline'), limits.deadlineMs)
      watched.deadline.unref()
      socket.on('data', watched.onData)
      ws.once('close', watched.onClose)
      byRequest.set(request, watched)
      metrics?.preAuthSockets(1)
    },
    authentication: {
      started(request) {
        const watched = byRequest.get(request)
        if (watched && !watched.done) watched.underWay++
      },
      ended(request, authenticated) {
        const watched = byRequest.get(request)
        if (!watched || watched.done) return
        watched.underWay = Math.max(0, watched.underWay - 1)
        if (authenticated) {
          stop(watched)
          // Read again, unless flow control holds the socket.
          if (watched.over && !watched.ws.isPaused) watched.socket.resume()
          return
        }
        // After Hocuspocus told the client why (its refusal follows this hook).
        setImmediate(() => check(watched))
      },
    },
  }
}
