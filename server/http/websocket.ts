/**
 * Hands WebSocket upgrades on the HTTP server to Hocuspocus (ws underneath: the de facto Node
 * WebSocket server, which also exposes per-socket buffering for slow-reader limits).
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { WebSocketServer, type RawData } from 'ws'

/** Largest frame a client may send; larger ones close the socket with 1009 (message too big). */
export const MAX_INCOMING_FRAME_BYTES = 8 * 1024 * 1024

/** Close code and reason sent to every socket when the server shuts down. */
export const SHUTDOWN_CLOSE = { code: 1001, reason: 'server shutting down' } as const

function toWebRequest(request: IncomingMessage): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(request.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else if (value !== undefined) headers.set(name, value)
  }
  return new Request(`http://${request.headers.host ?? 'localhost'}${request.url ?? '/'}`, { headers })
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

export interface WebSocketEndpoint {
  /** Closes every open socket with {@link SHUTDOWN_CLOSE} and stops accepting upgrades. */
  close(): void
}

export function attachWebSocket(httpServer: HttpServer, hocuspocus: Hocuspocus, logger: Logger): WebSocketEndpoint {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_INCOMING_FRAME_BYTES })
  let closing = false

  httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (closing) {
      socket.destroy()
      return
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = hocuspocus.handleConnection(ws, toWebRequest(request))
      ws.on('message', (data: RawData) => connection.handleMessage(toBytes(data)))
      ws.on('close', (code: number, reason: Buffer) => connection.handleClose({ code, reason: reason.toString() }))
      ws.on('error', (error: Error) => logger.warn({ err: error }, 'websocket error'))
    })
  })

  return {
    close() {
      closing = true
      for (const ws of wss.clients) ws.close(SHUTDOWN_CLOSE.code, SHUTDOWN_CLOSE.reason)
      wss.close()
    },
  }
}
