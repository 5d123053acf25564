/**
 * Hands WebSocket upgrades on the HTTP server to Hocuspocus (ws underneath: the de facto Node
 * WebSocket server, which also exposes per-socket buffering for slow-reader limits).
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as decoding from 'lib0/decoding'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import { CloseCode, ok } from '../../protocol/index.ts'
import type { FlowControl } from '../flow/index.ts'
import type { ConnectionAdmission } from './admission.ts'
import type { PreAuthGuard } from './pre-auth.ts'
import { UpgradeRequest } from './upgrade-request.ts'

/** Hocuspocus message type of a provider closing one document (`MessageType.CLOSE`). */
const CLOSE_MESSAGE = 7

/**
 * A provider's Close for a document whose session the server already ended (after a refused
 * update) would be queued as the first message of a new session and then end that one: drop it.
 */
function isStaleClose(hocuspocus: Hocuspocus, ws: WebSocket, data: Uint8Array): boolean {
  try {
    const decoder = decoding.createDecoder(data)
    const address = decoding.readVarString(decoder)
    if (decoding.readVarUint(decoder) !== CLOSE_MESSAGE) return false
    const name = address.split('\0')[0] ?? address
    const document = hocuspocus.documents.get(name)
    return !document?.getConnections().some((connection) => connection.webSocket === ws)
  } catch {
    return false
  }
}

/**
 * Largest frame a client may send; larger ones close the socket with 1009 (message too big) from
 * the frame header, before the payload is read. Room for the largest update the guard accepts
 * (1 MiB) twice over: nothing larger could be accepted, and reading it would cost the server.
 */
export const MAX_INCOMING_FRAME_BYTES = 2 * 1024 * 1024

/** Close code and reason sent to every socket when the server shuts down. */
export const SHUTDOWN_CLOSE = CloseCode.ServerShutdown

function toWebRequest(request: IncomingMessage): UpgradeRequest {
  const headers = new Headers()
  for (const [name, value] of Object.entries(request.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else if (value !== undefined) headers.set(name, value)
  }
  return new UpgradeRequest(`http://${request.headers.host ?? 'localhost'}${request.url ?? '/'}`, headers)
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

/**
 * Limits on connections: `admission` decides each upgrade per client address (a refusal is
 * answered with its HTTP response), `preAuth` watches each socket until it authenticates a
 * document. Without them every upgrade is admitted.
 */
export interface ConnectionLimits {
  admission?: ConnectionAdmission
  preAuth?: PreAuthGuard
}

/**
 * Rewrites a frame just before Hocuspocus reads it; returns it unchanged when it has nothing to do
 * (the join cache, extensions/join-cache/). Never throws.
 */
export type PrepareFrame = (frame: Uint8Array) => Uint8Array

/**
 * `flow`: every message passes its socket's flow-control gate (server/flow/) before Hocuspocus
 * reads it; without one, messages go straight to Hocuspocus. `prepare` sees each message after
 * the gate, as Hocuspocus is handed it.
 */
export function attachWebSocket(
  httpServer: HttpServer,
  hocuspocus: Hocuspocus,
  logger: Logger,
  limits: ConnectionLimits = {},
  flow?: FlowControl,
  prepare?: PrepareFrame,
): WebSocketEndpoint {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_INCOMING_FRAME_BYTES })
  let closing = false

  httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (closing) {
      socket.destroy()
      return
    }
    const admitted = limits.admission?.admit(request, socket) ?? ok(request.socket.remoteAddress ?? 'unknown')
    if (!admitted.ok) {
      // node:http took its error listener off the socket when it handed over the upgrade.
      socket.on('error', () => socket.destroy())
      if (admitted.error) socket.end(admitted.error)
      else socket.destroy()
      return
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const webRequest = toWebRequest(request)
      limits.preAuth?.watch(ws, socket, webRequest, admitted.value)
      const connection = hocuspocus.handleConnection(ws, webRequest)
      // Staleness is judged when the message reaches Hocuspocus, which may be later than it arrived.
      const deliver = (bytes: Uint8Array) => {
        if (!isStaleClose(hocuspocus, ws, bytes)) connection.handleMessage(prepare ? prepare(bytes) : bytes)
      }
      const gate = flow?.attach(ws, admitted.value, deliver)
      ws.on('message', (data: RawData) => {
        const bytes = toBytes(data)
        if (gate) gate.receive(bytes)
        else deliver(bytes)
      })
      // One close listener per socket does everything a close needs (each listener costs the socket's lifetime in memory).
      ws.on('close', (code: number, reason: Buffer) => {
        gate?.close()
        connection.handleClose({ code, reason: reason.toString() })
      })
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
