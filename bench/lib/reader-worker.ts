/**
 * A load-generator thread holding a share of the light readers (see reader-pool.ts). It connects
 * them, timestamps each update frame on arrival (absolute time: `timeOrigin + now()`, comparable
 * across threads) and hands the arrivals to the main thread when asked.
 */
import { parentPort } from 'node:worker_threads'
import { findMarkers } from './comments.ts'
import { LightClient } from './light-client.ts'
import { pool } from './wait.ts'

export interface ReaderAssignment {
  documentName: string
  token: string
}

export type WorkerRequest =
  | { id: number; op: 'connect'; url: string; clients: ReaderAssignment[]; keepAlive: boolean; concurrency: number; timeoutMs: number }
  | { id: number; op: 'collect' }
  | { id: number; op: 'close' }

/** One reader's connection outcome, in assignment order. */
export interface ConnectOutcome {
  ok: boolean
  /** Socket opening to synced, in ms (NaN if it failed). */
  connectMs: number
  /** Absolute time of synced (ms since the epoch, sub-ms precision). */
  syncedAt: number
  /** Bytes received up to and including the sync. */
  bytesAtSync: number
  failure?: string
}

export interface Collected {
  /** Pairs of (sequence number, absolute arrival time), flattened. */
  arrivals: Float64Array
  /** Readers the server closed (not us) after they were synced; failed connects are outcomes. */
  dropped: number
  open: number
}

export type WorkerReply =
  | { id: number; op: 'progress'; done: number }
  | { id: number; op: 'connected'; outcomes: ConnectOutcome[] }
  | { id: number; op: 'collected'; collected: Collected }
  | { id: number; op: 'closed' }

/** Initial capacity of the arrival buffer, in pairs; it doubles when full. */
const INITIAL_ARRIVALS = 16_384

const port = parentPort
if (!port) throw new Error('reader-worker.ts runs as a worker thread')

const clients: LightClient[] = []
let arrivals = new Float64Array(INITIAL_ARRIVALS * 2)
let size = 0

function record(seq: number, at: number): void {
  if (size + 2 > arrivals.length) {
    const grown = new Float64Array(arrivals.length * 2)
    grown.set(arrivals)
    arrivals = grown
  }
  arrivals[size++] = seq
  arrivals[size++] = at
}

function onUpdate(frame: Buffer, at: number): void {
  const absolute = performance.timeOrigin + at
  findMarkers(frame, (seq) => record(seq, absolute))
}

async function connect(request: Extract<WorkerRequest, { op: 'connect' }>): Promise<ConnectOutcome[]> {
  let done = 0
  const results = await pool(request.clients, request.concurrency, async (assignment) => {
    const client = new LightClient({ url: request.url, ...assignment, onUpdate, keepAlive: request.keepAlive })
    clients.push(client)
    try {
      await client.connect(request.timeoutMs)
      return { ok: true, connectMs: client.connectMs, syncedAt: performance.timeOrigin + client.syncedAt, bytesAtSync: client.bytes }
    } finally {
      done++
      if (done % 50 === 0 || done === request.clients.length) port?.postMessage({ id: request.id, op: 'progress', done } satisfies WorkerReply)
    }
  })
  return results.map((r) =>
    r.status === 'fulfilled'
      ? r.value
      : { ok: false, connectMs: Number.NaN, syncedAt: Number.NaN, bytesAtSync: 0, failure: r.reason instanceof Error ? r.reason.message : String(r.reason) },
  )
}

function collect(): { collected: Collected; transfer: ArrayBuffer } {
  const taken = new Float64Array(arrivals.subarray(0, size))
  size = 0
  const collected = {
    arrivals: taken,
    dropped: clients.filter((c) => c.synced && c.dropped).length,
    open: clients.filter((c) => c.synced && !c.dropped).length,
  }
  return { collected, transfer: taken.buffer }
}

port.on('message', (request: WorkerRequest) => {
  if (request.op === 'connect') {
    void connect(request).then((outcomes) => port.postMessage({ id: request.id, op: 'connected', outcomes } satisfies WorkerReply))
  } else if (request.op === 'collect') {
    const { collected, transfer } = collect()
    port.postMessage({ id: request.id, op: 'collected', collected } satisfies WorkerReply, [transfer])
  } else {
    for (const client of clients.splice(0)) client.close()
    port.postMessage({ id: request.id, op: 'closed' } satisfies WorkerReply)
  }
})
