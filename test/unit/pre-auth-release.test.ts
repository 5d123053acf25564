/**
 * The pre-authentication watch of a socket (server/http/pre-auth.ts) lets go of the socket once a
 * document authenticated: no close or data listener and no timer stay behind for the hours the
 * socket may live. Real `ws` WebSocket and `net` sockets over loopback.
 */
import { once } from 'node:events'
import type { Duplex } from 'node:stream'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { createPreAuthGuard, DEFAULT_PRE_AUTH_LIMITS } from '../../server/http/pre-auth.ts'

describe('pre-authentication watch', () => {
  let http: Server | undefined
  let client: WebSocket | undefined
  afterEach(async () => {
    client?.terminate()
    if (http) await new Promise((resolve) => http?.close(resolve))
  })

  it('keeps no listener on the socket after the first authentication', async () => {
    const guard = createPreAuthGuard({ limits: DEFAULT_PRE_AUTH_LIMITS, logger: pino({ level: 'silent' }) })
    const wss = new WebSocketServer({ noServer: true })
    http = createServer()
    const accepted = new Promise<{ ws: WebSocket; socket: Duplex; request: Request; closeListeners: number; dataListeners: number }>((resolve) => {
      http?.on('upgrade', (incoming, socket, head) => {
        wss.handleUpgrade(incoming, socket, head, (ws) => {
          const request = new Request('http://127.0.0.1/')
          const [closeListeners, dataListeners] = [ws.listenerCount('close'), socket.listenerCount('data')]
          guard.watch(ws, socket, request, '127.0.0.1')
          expect(ws.listenerCount('close')).toBe(closeListeners + 1)
          expect(socket.listenerCount('data')).toBe(dataListeners + 1)
          resolve({ ws, socket, request, closeListeners, dataListeners })
        })
      })
    })
    http.listen(0, '127.0.0.1')
    await once(http, 'listening')
    client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`)
    client.on('error', () => undefined)
    const { ws, socket, request, closeListeners, dataListeners } = await accepted
    await once(client, 'open')
    guard.authentication.started(request)
    guard.authentication.ended(request, true)
    expect(ws.listenerCount('close')).toBe(closeListeners)
    expect(socket.listenerCount('data')).toBe(dataListeners)
  })
})
