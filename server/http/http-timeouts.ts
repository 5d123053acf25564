/**
 * The HTTP server with bounded waits. node:http closes a connection that is slow to send its
 * headers or its request, but never one that sends nothing at all: such connections would stay
 * open forever and never meet the upgrade throttle. Here a connection must deliver its first
 * request's headers within `firstRequestMs` of connecting; later requests on a keep-alive
 * connection have node:http's header, request and keep-alive timeouts. An upgraded WebSocket
 * leaves these behind (ws clears the socket timeout) for Hocuspocus's idle timeout.
 */
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http'
import type { Socket } from 'node:net'
import { FIRST_REQUEST_TIMEOUT_MS, HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, REQUEST_TIMEOUT_MS, TIMEOUT_CHECK_INTERVAL_MS } from './connection-limits.ts'

export interface HttpTimeouts {
  /** Connecting to the first request's complete headers. */
  firstRequestMs: number
  /** A request's headers (node:http `headersTimeout`). */
  headersMs: number
  /** A whole request (node:http `requestTimeout`); at least `headersMs`. */
  requestMs: number
  /** An idle keep-alive connection (node:http `keepAliveTimeout`). */
  keepAliveMs: number
  /** How often node:http enforces `headersMs` and `requestMs` (`connectionsCheckingInterval`). */
  checkIntervalMs: number
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  firstRequestMs: FIRST_REQUEST_TIMEOUT_MS,
  headersMs: HEADERS_TIMEOUT_MS,
  requestMs: REQUEST_TIMEOUT_MS,
  keepAliveMs: KEEP_ALIVE_TIMEOUT_MS,
  checkIntervalMs: TIMEOUT_CHECK_INTERVAL_MS,
}

/** A node:http server for `listener` with `timeouts`; `onIdleClose` counts connections destroyed for sending nothing in time. */
export function createHttpServer(listener: RequestListener, timeouts: HttpTimeouts, onIdleClose?: () => void): HttpServer {
  const server = createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: timeouts.checkIntervalMs,
    },
    listener,
  )
  /** Connections that sent no request yet: their timer, and the close listener that clears it. */
  const waiting = new WeakMap<Socket, { timer: NodeJS.Timeout; onClose: () => void }>()
  const started = (socket: Socket) => {
    const wait = waiting.get(socket)
    if (!wait) return
    waiting.delete(socket)
    clearTimeout(wait.timer)
    // Nothing stays on a socket that may live for hours as a WebSocket.
    socket.off('close', wait.onClose)
  }
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => {
      onIdleClose?.()
      socket.destroy()
    }, timeouts.firstRequestMs)
    timer.unref()
    const onClose = () => started(socket)
    waiting.set(socket, { timer, onClose })
    socket.once('close', onClose)
  })
  server.on('request', (request: { socket: Socket }) => started(request.socket))
  server.on('upgrade', (request: { socket: Socket }) => started(request.socket))
  return server
}
