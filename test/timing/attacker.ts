/**
 * Every resource attack of issue 13 at once, for the memory budget test (test/timing/attacks.test.ts),
 * run as its own process at the lowest CPU priority so that its loops stand for clients elsewhere.
 * The hostile user is `mallory` (a `comment` role); the pre-authentication and idle attacks carry
 * no token at all.
 *
 * `node test/timing/attacker.ts <httpUrl> <wsUrl> <token> <searchToken> <attacks,...>`; prints `ready`.
 * stdin: `attack` starts every attack (again), `pause` stops them and closes their sockets,
 * `exit` stops and prints one JSON line of counts per attack.
 *
 * - `preauth`: 100 sockets without a token, each sending ~50 KiB (3 updates of 16 KiB and 90
 *   SyncStep1 to distinct documents) and holding it; reopened when the server closes them.
 * - `idle`: 200 TCP connections that never send a byte; reopened when closed.
 * - `awareness`: frames of 70 states of 25 KB (the most under the 2 MiB frame cap; 70 × 100 KB frames
 *   are closed from their header), and states over the size cap, as fast as the socket takes them.
 * - `syncstep1`: SyncStep1 frames with a 3.5 MiB state vector.
 * - `documents`: one socket opening 5,000 documents.
 * - `storm`: updates of 5 comments × 1,000 `@handles` of real directory users, back to back.
 * - `search`: 30 concurrent directory searches that match everyone, ignoring `Retry-After`.
 * - `names`: Auth frames for 100 KB document names.
 */
import { connect, type Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { authFrame, frame, MessageType, SyncStep } from '../../bench/lib/wire.ts'
import { createThread } from '../../protocol/comments/index.ts'
import { handleOf, STORM_SUBJECT } from './storm.ts'

/** A client's reconnect delay after the server closed it (the server's refusal backoff holds it longer). */
const RECONNECT_MS = 250
const PRE_AUTH_SOCKETS = 100
const IDLE_SOCKETS = 200
const CONCURRENT_SEARCHES = 30

type AttackName = 'preauth' | 'idle' | 'awareness' | 'syncstep1' | 'documents' | 'storm' | 'search' | 'names'
interface Counts {
  opened: number
  closed: number
  sent: number
  answered: number
  refused: number
}

const [httpUrl, wsUrl, token, searchToken, list] = process.argv.slice(2)
if (!httpUrl || !wsUrl || !token || !searchToken || !list) throw new Error('usage: attacker.ts <httpUrl> <wsUrl> <token> <searchToken> <attacks,...>')
const wanted = list.split(',') as AttackName[]
const counts: Record<string, Counts> = Object.fromEntries(wanted.map((name) => [name, { opened: 0, closed: 0, sent: 0, answered: 0, refused: 0 }]))
let attacking = false
let running = true
/** What `pause` closes. */
const open = new Set<{ close(): void }>()

const syncStep1Frame = (name: string, vector: Uint8Array) =>
  frame(name, MessageType.Sync, (e) => {
    encoding.writeVarUint(e, SyncStep.Step1)
    encoding.writeVarUint8Array(e, vector)
  })
const updateFrame = (name: string, bytes: number) =>
  frame(name, MessageType.Sync, (e) => {
    encoding.writeVarUint(e, SyncStep.Update)
    encoding.writeVarUint8Array(e, new Uint8Array(bytes).fill(7))
  })
function awarenessFrame(name: string, states: number, stateBytes: number): Uint8Array {
  const update = encoding.createEncoder()
  encoding.writeVarUint(update, states)
  for (let i = 0; i < states; i++) {
    encoding.writeVarUint(update, 7_000 + i)
    encoding.writeVarUint(update, 1)
    encoding.writeVarString(update, JSON.stringify({ user: { id: 'mallory', name: 'Bob' }, pad: 'x'.repeat(stateBytes) }))
  }
  return frame(name, MessageType.Awareness, (e) => encoding.writeVarUint8Array(e, encoding.toUint8Array(update)))
}
function bigStateVector(entries: number): Uint8Array {
  const vector = encoding.createEncoder()
  encoding.writeVarUint(vector, entries)
  for (let i = 0; i < entries; i++) {
    encoding.writeVarUint(vector, 1_000_000_000 + i)
    encoding.writeVarUint(vector, 1_000_000)
  }
  return encoding.toUint8Array(vector)
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `session` over and over while attacking: each run is one socket's life, counted. */
async function repeat(name: AttackName, session: (c: Counts) => Promise<void>): Promise<void> {
  const c = counts[name]!
  while (running) {
    if (!attacking) {
      await pause(20)
      continue
    }
    try {
      await session(c)
    } catch {
      c.refused++
    }
    await pause(RECONNECT_MS)
  }
}

/** A WebSocket that `pause` closes; resolves once open, with a promise of its close. */
async function webSocket(c: Counts): Promise<{ ws: WebSocket; closed: Promise<void> }> {
  const ws = new WebSocket(wsUrl!, { perMessageDeflate: false })
  const handle = { close: () => ws.terminate() }
  open.add(handle)
  const closed = new Promise<void>((resolve) =>
    ws.on('close', () => {
      open.delete(handle)
      c.closed++
      resolve()
    }),
  )
  ws.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('close', () => reject(new Error('closed before open')))
  })
  c.opened++
  return { ws, closed }
}

/** Sends while the socket's buffer is small, until it closes or the attack pauses. */
async function pour(ws: WebSocket, c: Counts, next: () => Uint8Array, maxBuffered: number): Promise<void> {
  while (ws.readyState === WebSocket.OPEN && attacking) {
    if (ws.bufferedAmount < maxBuffered) {
      ws.send(next())
      c.sent++
    }
    await pause(ws.bufferedAmount < maxBuffered ? 1 : 10)
  }
}

const attacks: Record<AttackName, () => Promise<void>> = {
  preauth: async () => {
    const held = 3 * 16 * 1024
    await Promise.all(
      Array.from({ length: PRE_AUTH_SOCKETS }, (_, s) =>
        repeat('preauth', async (c) => {
          const { ws, closed } = await webSocket(c)
          for (let i = 0; i < 3; i++) ws.send(updateFrame(`comments/held-${s}`, held / 3))
          for (let d = 0; d < 90; d++) ws.send(syncStep1Frame(`comments/held-${s}-${d}`, new Uint8Array([0])))
          c.sent++
          await closed
        }),
      ),
    )
  },
  idle: async () => {
    const url = new URL(wsUrl!)
    await Promise.all(
      Array.from({ length: IDLE_SOCKETS }, () =>
        repeat('idle', async (c) => {
          const socket: Socket = connect(Number(url.port), url.hostname)
          const handle = { close: () => socket.destroy() }
          open.add(handle)
          socket.on('error', () => {})
          socket.on('connect', () => c.opened++)
          await new Promise<void>((resolve) => socket.on('close', () => resolve()))
          open.delete(handle)
          c.closed++
        }),
      ),
    )
  },
  awareness: () =>
    repeat('awareness', async (c) => {
      const { ws, closed } = await webSocket(c)
      ws.send(authFrame(`comments/${STORM_SUBJECT}`, token!))
      const huge = awarenessFrame(`comments/${STORM_SUBJECT}`, 70, 25_000)
      const oversized = awarenessFrame(`comments/${STORM_SUBJECT}`, 1, 20_000)
      let i = 0
      await pour(ws, c, () => (i++ % 2 === 0 ? huge : oversized), 8 * 1024 * 1024)
      ws.terminate()
      await closed
    }),
  syncstep1: () =>
    repeat('syncstep1', async (c) => {
      const { ws, closed } = await webSocket(c)
      ws.send(authFrame('comments/vectors', token!))
      const vector = syncStep1Frame('comments/vectors', bigStateVector(350_000))
      await pour(ws, c, () => vector, 8 * 1024 * 1024)
      ws.terminate()
      await closed
    }),
  documents: () =>
    repeat('documents', async (c) => {
      const { ws, closed } = await webSocket(c)
      let d = 0
      await pour(ws, c, () => authFrame(`comments/many-${d++ % 5_000}`, token!), 256 * 1024)
      ws.terminate()
      await closed
    }),
  names: () =>
    repeat('names', async (c) => {
      const { ws, closed } = await webSocket(c)
      const long = authFrame(`comments/${'n'.repeat(100_000)}`, token!)
      await pour(ws, c, () => long, 1024 * 1024)
      ws.terminate()
      await closed
    }),
  storm: () =>
    repeat('storm', async (c) => {
      const doc = new Y.Doc()
      const socket = new HocuspocusProviderWebsocket({ url: wsUrl!, delay: RECONNECT_MS, minDelay: RECONNECT_MS, maxDelay: 5_000 })
      const provider = new HocuspocusProvider({ websocketProvider: socket, name: `comments/${STORM_SUBJECT}`, document: doc, token: token! })
      const handle = { close: () => (provider.destroy(), socket.destroy()) }
      open.add(handle)
      provider.attach()
      c.opened++
      let n = 0
      const body = (k: number) => Array.from({ length: 1_000 }, (_, i) => `@${handleOf((k * 1_000 + i) % 20_000)}`).join(' ')
      while (attacking && running) {
        if (provider.isSynced && provider.unsyncedChanges < 2) {
          doc.transact(() => {
            for (let k = 0; k < 5; k++) createThread({ doc, userId: 'mallory' }, body(n++))
          })
          c.sent++
        }
        await pause(20)
      }
      c.answered += n
      handle.close()
      open.delete(handle)
    }),
  search: async () => {
    await Promise.all(
      Array.from({ length: CONCURRENT_SEARCHES }, () =>
        repeat('search', async (c) => {
          while (attacking && running) {
            const answer = await fetch(`${httpUrl}/api/v1/users?subjectId=${STORM_SUBJECT}&limit=50&query=m`, {
              headers: { authorization: `Bearer ${searchToken}` },
            })
            await answer.body?.cancel()
            c.sent++
            if (answer.status === 200) c.answered++
            else c.refused++
          }
        }),
      ),
    )
  },
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'attack') attacking = true
  if (line === 'pause' || line === 'exit') {
    attacking = false
    for (const handle of [...open]) handle.close()
    open.clear()
  }
  if (line === 'exit') running = false
})
const all = Promise.all(wanted.map((name) => attacks[name]()))
console.log('ready')
await all
console.log(JSON.stringify(counts))
process.exit(0)
