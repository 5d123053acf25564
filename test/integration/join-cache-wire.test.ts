/**
 * The join cache on the wire (docs/PROTOCOL.md, "Sync"): a fresh joiner of a large document gets
 * the whole document as a Sync/Update before the server's SyncStep1 and a small SyncStep2, on
 * plain and session addresses; a socket refused for that document gets no document content.
 */
import * as decoding from 'lib0/decoding'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { addComment, addThread } from '../helpers/comments.ts'
import { authFrame } from '../helpers/frames.ts'
import { acknowledged, connectSynced } from '../helpers/provider.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { syncStep1Frame } from '../limits/sockets.ts'

/** Hocuspocus message types and sub-types (docs/PROTOCOL.md, "Frame"). */
const SYNC = 0
const AUTH = 2
const SYNC_STEP2 = 1
const AUTHENTICATED = 2
const PERMISSION_DENIED = 1

const DOCUMENT = 'comments/join-wire'

interface Received {
  address: string
  type: number
  sub: number
  /** The Sync payload's length (0 for other frames). */
  bytes: number
  payload: Uint8Array
}

/** A socket that records every frame the server sends it. */
async function rawSocket(url: string): Promise<{ ws: WebSocket; frames: Received[] }> {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  const frames: Received[] = []
  ws.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data))
    const address = decoding.readVarString(decoder)
    const type = decoding.readVarUint(decoder)
    const sub = decoding.readVarUint(decoder)
    const payload = type === SYNC ? decoding.readVarUint8Array(decoder) : new Uint8Array()
    frames.push({ address, type, sub, bytes: payload.length, payload })
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  return { ws, frames }
}

describe('join cache on the wire', () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })

  async function seeded(): Promise<{ s: TestServer; doc: Y.Doc }> {
    const s = await startServer()
    cleanup.push(() => s.dispose())
    const writer = await connectSynced(s.server.webSocketUrl, DOCUMENT, await s.token('ana'))
    cleanup.push(() => writer.destroy())
    addThread(writer.doc, 't1', 'ana')
    for (let i = 0; i < 30; i++) addComment(writer.doc, 't1', `c${i}`, 'ana', `${i} `.padEnd(4_000, 'y'))
    await acknowledged(writer, 20_000)
    return { s, doc: writer.doc }
  }

  it.each([
    ['a plain address', DOCUMENT],
    ['a session address', `${DOCUMENT}\0session-1`],
  ])('with %s: the whole document as an Update, then SyncStep1 and a small SyncStep2, to that address', async (_, address) => {
    const { s, doc } = await seeded()
    const { ws, frames } = await rawSocket(s.server.webSocketUrl)
    cleanup.push(() => ws.close())
    ws.send(authFrame(address, await s.token('ben')))
    ws.send(syncStep1Frame(address))
    await waitFor(() => frames.some((f) => f.type === SYNC && f.sub === SYNC_STEP2), 'the SyncStep2')
    const sync = frames.filter((f) => f.type === SYNC)
    expect(sync.map((f) => f.sub)).toEqual([2, 0, 1])
    expect(frames.every((f) => f.address === address)).toBe(true)
    const [update, , step2] = sync
    const whole = Y.encodeStateAsUpdate(doc).byteLength
    expect(update?.bytes).toBeGreaterThan(0.9 * whole)
    expect(step2?.bytes).toBeLessThan(1024)
    // The two together are the whole document.
    const joined = new Y.Doc()
    for (const frame of [update, step2]) if (frame) Y.applyUpdate(joined, frame.payload)
    expect(joined.getMap('threads').toJSON()).toEqual(doc.getMap('threads').toJSON())
  })

  it.each([
    ['a token without access to the document', { access: { 'comments/elsewhere': 'comment' } }],
    ['a token with no role at all', { access: {} }],
  ] as const)('%s: refused, and no document content is sent for its SyncStep1', async (_, claims) => {
    const { s } = await seeded()
    const { ws, frames } = await rawSocket(s.server.webSocketUrl)
    cleanup.push(() => ws.close())
    ws.send(authFrame(DOCUMENT, await s.token('mallory', claims)))
    ws.send(syncStep1Frame(DOCUMENT))
    await waitFor(() => frames.some((f) => f.type === AUTH && f.sub === PERMISSION_DENIED), 'the refusal')
    // A second document on the same socket, refused too: the server has handled what came before.
    ws.send(authFrame('comments/join-wire-other', await s.token('mallory', claims)))
    await waitFor(() => frames.filter((f) => f.type === AUTH && f.sub === PERMISSION_DENIED).length === 2, 'the second refusal')
    expect(frames.filter((f) => f.type === SYNC)).toEqual([])
    expect(frames.some((f) => f.type === AUTH && f.sub === AUTHENTICATED)).toBe(false)
    const text = await s.server.metrics.registry.metrics()
    expect(text).not.toMatch(/parley_join_cache_answers_total\{result="(hit|miss)"\} [1-9]/)
  })
})
