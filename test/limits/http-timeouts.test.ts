/**
 * The HTTP server's waits: a TCP connection that never sends a request, or sends its headers too
 * slowly, is closed; an idle keep-alive connection too. Short timeouts through server options;
 * the defaults' values are asserted on their own and on a default server.
 */
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  FIRST_REQUEST_TIMEOUT_MS,
  HEADERS_TIMEOUT_MS,
  KEEP_ALIVE_TIMEOUT_MS,
  REQUEST_TIMEOUT_MS,
  TIMEOUT_CHECK_INTERVAL_MS,
} from '../../server/http/connection-limits.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { metricValue } from './sockets.ts'

/** Timer slack allowed past a timeout on a shared, busy machine. */
const SLACK_MS = 1_500

interface Raw {
  socket: Socket
  openedAt: number
  /** Date.now() when the server ended the connection. */
  closedAt: Promise<number>
  received(): string
}

function rawConnection(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (text += chunk))
    socket.on('error', () => undefined)
    const closedAt = new Promise<number>((done) => socket.once('close', () => done(Date.now())))
    socket.once('connect', () => resolve({ socket, openedAt: Date.now(), closedAt, received: () => text }))
    socket.once('error', reject)
  })
}

describe('HTTP connection timeouts', () => {
  let s: TestServer | undefined
  const sockets: Socket[] = []
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy()
    await s?.dispose()
    s = undefined
  })

  it('has documented defaults, set on the server', async () => {
    expect(FIRST_REQUEST_TIMEOUT_MS).toBe(10_000)
    expect(HEADERS_TIMEOUT_MS).toBe(10_000)
    expect(REQUEST_TIMEOUT_MS).toBe(30_000)
    expect(KEEP_ALIVE_TIMEOUT_MS).toBe(5_000)
    expect(TIMEOUT_CHECK_INTERVAL_MS).toBe(1_000)
    s = await startServer()
    const http = s.server.httpServer
    expect({ headers: http.headersTimeout, request: http.requestTimeout, keepAlive: http.keepAliveTimeout }).toEqual({
      headers: HEADERS_TIMEOUT_MS,
      request: REQUEST_TIMEOUT_MS,
      keepAlive: KEEP_ALIVE_TIMEOUT_MS,
    })
  })

  it('closes connections that never send a byte, or never finish their first request', async () => {
    const firstRequestMs = 500
    s = await startServer({ connections: { http: { firstRequestMs } } })
    const silent = await Promise.all(Array.from({ length: 20 }, () => rawConnection(s!.server.port)))
    const slow = await rawConnection(s.server.port)
    sockets.push(...silent.map((raw) => raw.socket), slow.socket)
    // Headers, a byte at a time and never finished (slowloris).
    slow.socket.write('GET /health HTTP/1.1\r\n')
    const drip = setInterval(() => slow.socket.write('X'), 100)
    try {
      for (const raw of [...silent, slow]) {
        const closedAt = await raw.closedAt
        expect(closedAt - raw.openedAt).toBeGreaterThanOrEqual(firstRequestMs - 5)
        expect(closedAt - raw.openedAt).toBeLessThan(firstRequestMs + SLACK_MS)
      }
    } finally {
      clearInterval(drip)
    }
    expect(metricValue(await s.server.metrics.registry.metrics(), 'parley_http_idle_closes_total')).toBe(21)
  })

  it('serves a prompt request, then closes the idle keep-alive connection', async () => {
    const keepAliveMs = 300
    s = await startServer({ connections: { http: { firstRequestMs: 200, keepAliveMs } } })
    const raw = await rawConnection(s.server.port)
    sockets.push(raw.socket)
    raw.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
    await waitFor(() => raw.received().startsWith('HTTP/1.1 200'), 'the health answer')
    const answeredAt = Date.now()
    // Answered before the first-request timeout, the connection then lives by keep-alive rules.
    const closedAt = await raw.closedAt
    expect(closedAt - answeredAt).toBeGreaterThanOrEqual(keepAliveMs - 50)
    expect(closedAt - answeredAt).toBeLessThan(keepAliveMs + SLACK_MS)
  })

  it('closes a keep-alive connection whose next request stalls in its headers', async () => {
    s = await startServer({ connections: { http: { firstRequestMs: 5_000, headersMs: 400, requestMs: 400, keepAliveMs: 5_000, checkIntervalMs: 100 } } })
    const raw = await rawConnection(s.server.port)
    sockets.push(raw.socket)
    raw.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
    await waitFor(() => raw.received().startsWith('HTTP/1.1 200'), 'the health answer')
    const startedAt = Date.now()
    raw.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n')
    const closedAt = await raw.closedAt
    // node:http answers 408 and closes.
    expect(raw.received()).toContain('HTTP/1.1 408')
    expect(closedAt - startedAt).toBeLessThan(400 + SLACK_MS)
  })
})
