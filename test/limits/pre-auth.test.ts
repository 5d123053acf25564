/**
 * A WebSocket that has not authenticated a document: closed at the deadline (4408), or past its
 * byte budget once no authentication is under way (4205); a client that authenticates in time, or
 * whose first burst is decided while it is read, is let through. Short limits through server
 * options; the defaults' values are asserted on their own.
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import {
  PENDING_AUTH_MAX_BYTES,
  PENDING_AUTH_MAX_FRAMES,
  PRE_AUTH_CLOSE_GRACE_MS,
  PRE_AUTH_DEADLINE_MS,
  PRE_AUTH_MAX_BYTES,
  PRE_AUTH_OVERFLOW_CLOSE,
  PRE_AUTH_TIMEOUT_CLOSE,
} from '../../server/http/connection-limits.ts'
import { pendingAuthOptions } from '../../server/http/pre-auth.ts'
import { authFrame } from '../helpers/frames.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { admitted, metricValue, send, updateFrame } from './sockets.ts'

/** Timer slack allowed past a deadline on a shared, busy machine. */
const SLACK_MS = 1_500

describe('limits before the first authentication', () => {
  let s: TestServer | undefined
  const cleanup: Array<() => void> = []
  afterEach(async () => {
    for (const done of cleanup.splice(0)) done()
    await s?.dispose()
    s = undefined
  })

  const metrics = async () => s!.server.metrics.registry.metrics()

  it('has documented defaults: 10 s, 64 KiB, Hocuspocus queues of 1 MiB and 1,000 frames', () => {
    expect(PRE_AUTH_DEADLINE_MS).toBe(10_000)
    expect(PRE_AUTH_MAX_BYTES).toBe(64 * 1024)
    expect(PRE_AUTH_CLOSE_GRACE_MS).toBe(2_000)
    expect(PRE_AUTH_TIMEOUT_CLOSE).toEqual({ code: 4408, reason: 'Connection Timeout' })
    expect(PRE_AUTH_OVERFLOW_CLOSE).toEqual({ code: 4205, reason: 'Reset Connection' })
    expect(pendingAuthOptions(100)).toEqual({
      maxUnauthenticatedQueueSize: PENDING_AUTH_MAX_BYTES,
      maxUnauthenticatedQueueMessages: PENDING_AUTH_MAX_FRAMES,
      maxPendingDocuments: 100,
    })
    expect(PENDING_AUTH_MAX_BYTES).toBe(1024 * 1024)
    expect(PENDING_AUTH_MAX_FRAMES).toBe(1_000)
  })

  it('hands the queue limits to Hocuspocus', async () => {
    s = await startServer()
    expect(s.server.hocuspocus.configuration).toMatchObject({
      maxUnauthenticatedQueueSize: PENDING_AUTH_MAX_BYTES,
      maxUnauthenticatedQueueMessages: PENDING_AUTH_MAX_FRAMES,
      maxPendingDocuments: 100,
    })
  })

  it('closes a socket that authenticated nothing by the deadline with 4408, and keeps one that did', async () => {
    const deadlineMs = 600
    s = await startServer({ connections: { preAuth: { deadlineMs } } })
    const url = s.server.webSocketUrl
    const openedAt = Date.now()
    const silent = await admitted(url)
    const talker = await admitted(url)
    cleanup.push(
      () => silent.ws.terminate(),
      () => talker.ws.terminate(),
    )
    // A frame without a token does not count as authenticating.
    await send(talker.ws, updateFrame('comments/a', 10))
    // The third one authenticates its inbox.
    const verified = await admitted(url)
    cleanup.push(() => verified.ws.terminate())
    const answered = new Promise((resolve) => verified.ws.once('message', resolve))
    await send(verified.ws, authFrame('inbox/ana', await s.token('ana')))
    await answered

    for (const socket of [silent, talker]) {
      const closed = await socket.closed
      expect(closed).toMatchObject({ code: 4408, reason: 'Connection Timeout' })
      expect(closed.at - openedAt).toBeGreaterThanOrEqual(deadlineMs - 5)
      expect(closed.at - openedAt).toBeLessThan(deadlineMs + SLACK_MS)
    }
    // Past the deadline (both others are closed), the authenticated socket is still open.
    expect(verified.ws.readyState).toBe(WebSocket.OPEN)
    expect(metricValue(await metrics(), 'parley_pre_auth_closes_total', 'reason="deadline"')).toBe(2)
    expect(metricValue(await metrics(), 'parley_pre_auth_sockets')).toBe(0)
  })

  it('closes a tokenless socket past its byte budget with 4205, having read little more than the budget', async () => {
    const maxBytes = 16 * 1024
    s = await startServer({ connections: { preAuth: { maxBytes } } })
    const flooder = await admitted(s.server.webSocketUrl)
    cleanup.push(() => flooder.ws.terminate())
    let closed = false
    void flooder.closed.then(() => (closed = true))
    // Up to 2 MiB, one 4 KiB frame after another, until the server closes the socket (the kernel
    // takes much of it whatever the server reads).
    for (let i = 0; i < 512 && !closed; i++) await send(flooder.ws, updateFrame('comments/flood', 4096))
    expect(await flooder.closed).toMatchObject({ code: 4205, reason: 'Reset Connection' })
    const read = metricValue(await metrics(), 'parley_pre_auth_bytes_total')
    expect(read).toBeGreaterThan(maxBytes)
    // At most one network read (64 KiB) past the budget before the check.
    expect(read).toBeLessThanOrEqual(maxBytes + 64 * 1024)
    expect(metricValue(await metrics(), 'parley_pre_auth_closes_total', 'reason="bytes"')).toBe(1)
  })

  it('a refused authentication does not save a socket past its budget', async () => {
    s = await startServer({ connections: { preAuth: { maxBytes: 1024 } } })
    const socket = await admitted(s.server.webSocketUrl)
    cleanup.push(() => socket.ws.terminate())
    await send(socket.ws, authFrame('inbox/ana', 'not-a-token'))
    await send(socket.ws, updateFrame('inbox/ana', 4096))
    expect(await socket.closed).toMatchObject({ code: 4205 })
  })

  it('lets a provider through whose first frames are past the budget while their authentication is under way', async () => {
    // Smaller than one Auth frame: the budget is passed by the first read, before any decision.
    const maxBytes = 100
    s = await startServer({ connections: { preAuth: { maxBytes } } })
    const token = await s.token('ana', { access: { 'comments/*': 'comment' } })
    let closes = 0
    const socket = new HocuspocusProviderWebsocket({ url: s.server.webSocketUrl, onClose: () => closes++ })
    const names = ['inbox/ana', ...Array.from({ length: 11 }, (_, i) => `comments/burst-${i}`)]
    const providers = names.map((name) => new HocuspocusProvider({ websocketProvider: socket, name, token }))
    cleanup.push(() => {
      for (const provider of providers) provider.destroy()
      socket.destroy()
    })
    for (const provider of providers) provider.attach()
    await waitFor(() => providers.every((provider) => provider.isSynced), 'every document synced')
    expect(closes).toBe(0)
    expect(metricValue(await metrics(), 'parley_pre_auth_bytes_total')).toBeGreaterThan(maxBytes)
    expect(metricValue(await metrics(), 'parley_pre_auth_closes_total')).toBe(0)
  })
})
