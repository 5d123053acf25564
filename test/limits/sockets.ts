/** Raw sockets for the connection-limit tests: upgrades that may be refused, frames without a token, closes. */
import { readFileSync } from 'node:fs'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'

/** Hocuspocus message types and sync steps (docs/PROTOCOL.md, "Frame"). */
const SYNC = 0
const SYNC_STEP1 = 0
const SYNC_UPDATE = 2

/** A Sync/Update frame for `name` carrying `bytes` bytes (not a valid update: nothing reads it before authentication). */
export function updateFrame(name: string, bytes: number): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, name)
  encoding.writeVarUint(encoder, SYNC)
  encoding.writeVarUint(encoder, SYNC_UPDATE)
  encoding.writeVarUint8Array(encoder, new Uint8Array(bytes).fill(7))
  return encoding.toUint8Array(encoder)
}

/** A Sync/SyncStep1 frame for `name` with an empty state vector. */
export function syncStep1Frame(name: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, name)
  encoding.writeVarUint(encoder, SYNC)
  encoding.writeVarUint(encoder, SYNC_STEP1)
  encoding.writeVarUint8Array(encoder, new Uint8Array([0]))
  return encoding.toUint8Array(encoder)
}

export interface Closed {
  code: number
  reason: string
  /** Date.now() when the close arrived. */
  at: number
}

export type Upgrade =
  { ok: true; ws: WebSocket; closed: Promise<Closed> } | { ok: false; status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** Opens a WebSocket; resolves when it is open, or with the HTTP response that refused it. */
export function upgrade(url: string, headers: Record<string, string> = {}): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false })
    const closed = new Promise<Closed>((done) => ws.on('close', (code, reason) => done({ code, reason: reason.toString(), at: Date.now() })))
    ws.on('open', () => resolve({ ok: true, ws, closed }))
    ws.on('unexpected-response', (_request, response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve({ ok: false, status: response.statusCode ?? 0, headers: response.headers, body }))
    })
    ws.on('error', (error) => reject(error))
  })
}

/** Opens a WebSocket that must be admitted. */
export async function admitted(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; closed: Promise<Closed> }> {
  const result = await upgrade(url, headers)
  if (!result.ok) throw new Error(`upgrade refused with ${result.status}: ${result.body}`)
  return result
}

/** Sends a frame and resolves once it is written (or the socket is gone). */
export function send(ws: WebSocket, frame: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState !== WebSocket.OPEN) return resolve()
    ws.send(frame, () => resolve())
  })
}

/** Resident and peak resident memory of a process, in bytes (Linux /proc). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024
  return { rss: kib('VmRSS'), peak: kib('VmHWM') }
}

/** A counter or gauge from a Prometheus text exposition (the sum of its series matching `labels`). */
export function metricValue(text: string, name: string, labels = ''): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue
    if (labels && !rest.includes(labels)) continue
    sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}
