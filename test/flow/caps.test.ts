/**
 * The gate's caps end to end, on real sockets: awareness (one client's state per message, a size
 * per state, coalescing above the rate without slowing anything else), the SyncStep1 state-vector
 * cap, and the documents-per-socket cap.
 */
import { HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { type RawData } from 'ws'
import { CloseCode, createThread } from '../../protocol/index.ts'
import { AWARENESS_PER_SECOND, MAX_DOCUMENTS_PER_SOCKET, MAX_STATE_VECTOR_BYTES } from '../../server/flow/limits.ts'
import { MAX_INCOMING_FRAME_BYTES } from '../../server/http/websocket.ts'
import { AwarenessPeer, presenceState } from '../helpers/awareness.ts'
import { authFrame } from '../helpers/frames.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { FAST_RECONNECT, watchedProvider, type WatchedProvider } from './watched.ts'

async function metric(s: TestServer, name: string, labels: Record<string, string> = {}): Promise<number> {
  const values = (await s.server.metrics.registry.getSingleMetric(name)?.get())?.values ?? []
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0)
}

/** A SyncStep1 whose state vector is `entries` (client id, clock) pairs. */
function syncStep1(documentName: string, entries: number): Uint8Array {
  const vector = encoding.createEncoder()
  encoding.writeVarUint(vector, entries)
  for (let i = 0; i < entries; i++) {
    encoding.writeVarUint(vector, 1_000_000 + i)
    encoding.writeVarUint(vector, 1)
  }
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, documentName)
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarUint8Array(encoder, encoding.toUint8Array(vector))
  return encoding.toUint8Array(encoder)
}

/** A raw socket that records the types of the frames it receives, its parley.error codes and its close. */
async function rawSocket(url: string) {
  const socket = new WebSocket(url)
  const received: Array<{ type: number; sub: number | undefined }> = []
  const errors: string[] = []
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  socket.on('message', (data: RawData) => {
    const bytes = data instanceof Buffer ? data : Buffer.concat(data as Buffer[])
    const decoder = decoding.createDecoder(bytes)
    decoding.readVarString(decoder)
    const type = decoding.readVarUint(decoder)
    if (type === 5) {
      const message = JSON.parse(decoding.readVarString(decoder)) as { type: string; code: string }
      if (message.type === 'parley.error') errors.push(message.code)
      received.push({ type, sub: undefined })
      return
    }
    received.push({ type, sub: decoding.hasContent(decoder) ? decoding.readVarUint(decoder) : undefined })
  })
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  return { socket, received, errors, closed }
}

describe('flow-control caps', () => {
  let s: TestServer | undefined
  const peers: AwarenessPeer[] = []
  const providers: WatchedProvider[] = []
  const sockets: WebSocket[] = []
  afterEach(async () => {
    for (const p of peers.splice(0)) p.close()
    for (const p of providers.splice(0)) p.destroy()
    for (const w of sockets.splice(0)) w.terminate()
    await s?.dispose()
    s = undefined
  })

  it('drops an awareness message that speaks for several clients, or carries an oversized state, before Hocuspocus reads it', async () => {
    s = await startServer()
    const name = 'comments/caps-awareness'
    const observer = await AwarenessPeer.connect(s.server.webSocketUrl, name, await s.token('ben'))
    const sender = await AwarenessPeer.connect(s.server.webSocketUrl, name, await s.token('ana'))
    peers.push(observer, sender)
    sender.send({ clientId: 11, clock: 1, state: presenceState('ana') }, { clientId: 12, clock: 1, state: presenceState('ana', { name: 'twin' }) })
    sender.send({ clientId: 13, clock: 1, state: { ...presenceState('ana'), blob: 'x'.repeat(9_000) } })
    // Removals of other clients are stripped; the sender's own state passes.
    sender.send({ clientId: 14, clock: 1, state: presenceState('ana', { name: 'honest' }) }, { clientId: 99, clock: 3, state: null })
    await waitFor(() => observer.latest(14) !== undefined, 'the honest state arrives')
    expect(observer.latest(11)).toBeUndefined()
    expect(observer.latest(12)).toBeUndefined()
    expect(observer.latest(13)).toBeUndefined()
    expect(observer.entriesOf(99)).toEqual([])
    expect(await metric(s, 'parley_flow_awareness_dropped_total', { reason: 'too_many_states' })).toBe(1)
    expect(await metric(s, 'parley_flow_awareness_dropped_total', { reason: 'state_too_large' })).toBe(1)
  })

  it('coalesces awareness above its rate to the latest state, without slowing the same socket’s updates', async () => {
    s = await startServer()
    const name = 'comments/caps-coalesce'
    const observer = await AwarenessPeer.connect(s.server.webSocketUrl, name, await s.token('ben'))
    peers.push(observer)
    const ana = watchedProvider(s.server.webSocketUrl, name, await s.token('ana'))
    providers.push(ana)
    await waitFor(() => ana.provider.isSynced && ana.provider.unsyncedChanges === 0, 'ana synced')
    const clientId = ana.provider.awareness!.clientID
    // 300 awareness changes at once: far above 10 per second (bursts of 50).
    ana.provider.setAwarenessField('user', { id: 'ana', name: 'ana' })
    for (let i = 0; i < 300; i++) ana.provider.setAwarenessField('cursor', i)
    const started = performance.now()
    createThread({ doc: ana.doc, userId: 'ana' }, 'not slowed by awareness')
    await waitFor(() => ana.provider.unsyncedChanges === 0, 'the update is acknowledged')
    expect(performance.now() - started).toBeLessThan(1_000)
    await waitFor(() => observer.latest(clientId)?.cursor === 299, 'the latest state arrives', 15_000)
    const coalesced = await metric(s, 'parley_flow_awareness_coalesced_total')
    expect(coalesced).toBeGreaterThan(200)
    // What reached Hocuspocus: about the burst plus the rate, not 300 states.
    expect(observer.entriesOf(clientId).length).toBeLessThan(300 - coalesced + 5)
    expect(AWARENESS_PER_SECOND).toBeGreaterThanOrEqual(10)
    expect(ana.socketCloses).toEqual([])
  })

  it('refuses a SyncStep1 whose state vector is over the cap: parley.error too_large, then the socket closes', async () => {
    s = await startServer()
    const name = 'comments/caps-state-vector'
    const token = await s.token('ana')
    // About 4 bytes per entry: just under the cap is answered.
    const under = await rawSocket(s.server.webSocketUrl)
    sockets.push(under.socket)
    under.socket.send(authFrame(name, token))
    const fits = syncStep1(name, Math.floor(MAX_STATE_VECTOR_BYTES / 8))
    expect(fits.byteLength).toBeLessThan(MAX_STATE_VECTOR_BYTES)
    under.socket.send(fits)
    await waitFor(() => under.received.some((m) => m.type === 0 && m.sub === 1), 'answered with a SyncStep2')
    const over = await rawSocket(s.server.webSocketUrl)
    sockets.push(over.socket)
    over.socket.send(authFrame(name, token))
    over.socket.send(syncStep1(name, Math.ceil(MAX_STATE_VECTOR_BYTES / 3)))
    expect(await over.closed).toEqual({ code: CloseCode.TooLarge.code, reason: 'too_large' })
    expect(over.errors).toEqual(['too_large'])
    expect(over.received.some((m) => m.type === 0 && m.sub === 1)).toBe(false)
  })

  it('closes a socket whose frame is over the frame cap with 1009, and serves the next one', async () => {
    s = await startServer()
    const big = await rawSocket(s.server.webSocketUrl)
    sockets.push(big.socket)
    big.socket.send(new Uint8Array(MAX_INCOMING_FRAME_BYTES + 1))
    expect((await big.closed).code).toBe(1009)
    const next = await rawSocket(s.server.webSocketUrl)
    sockets.push(next.socket)
    next.socket.send(authFrame('comments/after', await s.token('ana')))
    await waitFor(() => next.received.some((r) => r.type === 2), 'the next socket is served')
  })

  it('caps the documents one socket may have open; closing one makes room; another socket is not affected', async () => {
    expect(MAX_DOCUMENTS_PER_SOCKET).toBe(100)
    s = await startServer({ flow: { maxDocumentsPerSocket: 3 } })
    const token = await s.token('ana')
    const socket = new HocuspocusProviderWebsocket({ url: s.server.webSocketUrl, ...FAST_RECONNECT })
    const open = (name: string, on = socket) => {
      const p = watchedProvider(s!.server.webSocketUrl, name, token, undefined, on)
      providers.push(p)
      return p
    }
    const first = [open('comments/d1'), open('comments/d2'), open('comments/d3')]
    await waitFor(() => first.every((p) => p.provider.isSynced), 'three documents open')
    const fourth = open('comments/d4')
    await waitFor(() => fourth.authFailures.length > 0, 'the fourth is refused')
    expect(fourth.authFailures[0]).toMatch(/^too_many_documents: /)
    expect(await metric(s, 'parley_flow_documents_refused_total')).toBe(1)
    // The others keep working.
    createThread({ doc: first[0]!.doc, userId: 'ana' }, 'still open')
    await waitFor(() => first[0]!.provider.unsyncedChanges === 0, 'd1 acknowledged')
    // Closing one makes room for another.
    first[2]!.provider.destroy()
    await waitFor(() => s!.server.hocuspocus.documents.get('comments/d3') === undefined, 'd3 closed')
    const fifth = open('comments/d5')
    await waitFor(() => fifth.provider.isSynced, 'd5 opens')
    // The cap is per socket: the same user's other socket opens more.
    const other = open('comments/d6', new HocuspocusProviderWebsocket({ url: s.server.webSocketUrl, ...FAST_RECONNECT }))
    await waitFor(() => other.provider.isSynced, 'another socket opens a document')
    expect(first.concat(fifth, other).every((p) => p.socketCloses.length === 0)).toBe(true)
  })
})
