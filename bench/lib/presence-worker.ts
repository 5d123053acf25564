/**
 * A load-generator thread for the `presence` scenario: holds a share of the light presence
 * clients, sends their heartbeats (unchanged states) and the typists' typing on schedule, and
 * counts the awareness frames they receive. The main thread drives it (presence-pool.ts).
 */
import { parentPort } from 'node:worker_threads'
import { PresenceClient, type BenchState } from './presence-client.ts'
import { pool } from './wait.ts'

export interface PresenceAssignment {
  userId: string
  token: string
  clientId: number
  typist: boolean
}

export type PresenceRequest =
  | { id: number; op: 'connect'; url: string; documentName: string; clients: PresenceAssignment[]; concurrency: number; timeoutMs: number }
  | { id: number; op: 'start'; heartbeatMs: number; typingMs: number; threadId: string }
  | { id: number; op: 'count'; on: boolean }
  | { id: number; op: 'finish'; settleMs: number }
  | { id: number; op: 'close' }

export type PresenceReply =
  | { id: number; op: 'connected'; ok: number; failures: string[] }
  | { id: number; op: 'started' }
  | { id: number; op: 'counted'; frames: number; clients: number; dropped: number }
  | { id: number; op: 'finished'; finals: Array<[number, string]>; typed: number[] }
  | { id: number; op: 'closed' }

const port = parentPort
if (!port) throw new Error('presence-worker.ts runs as a worker thread')

const clients: Array<{ client: PresenceClient; typist: boolean; state: BenchState }> = []
const timers: NodeJS.Timeout[] = []
/** `at` of every typing state sent. */
const typed: number[] = []

function stateOf(userId: string): BenchState {
  return { user: { id: userId, name: userId }, status: 'active', typing: null }
}

async function connect(request: Extract<PresenceRequest, { op: 'connect' }>): Promise<PresenceReply> {
  const results = await pool(request.clients, request.concurrency, async (a) => {
    const client = new PresenceClient({ url: request.url, documentName: request.documentName, token: a.token, userId: a.userId, clientId: a.clientId })
    await client.connect(request.timeoutMs).catch((error: unknown) => {
      client.close()
      throw error
    })
    clients.push({ client, typist: a.typist, state: stateOf(a.userId) })
  })
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []))
  return { id: request.id, op: 'connected', ok: results.length - failures.length, failures: failures.slice(0, 3) }
}

/** Every client joins with its state, then heartbeats on its own phase; typists type once per `typingMs`. */
function start(request: Extract<PresenceRequest, { op: 'start' }>): void {
  for (const entry of clients) {
    entry.client.send(entry.state)
    const heartbeat = () => entry.client.send(entry.state)
    const phase = Math.random() * request.heartbeatMs
    timers.push(setTimeout(() => timers.push(setInterval(heartbeat, request.heartbeatMs)), phase))
    if (!entry.typist) continue
    const type = () => {
      const at = Date.now()
      entry.state = { ...entry.state, typing: { threadId: request.threadId, at } }
      entry.client.send(entry.state)
      typed.push(at)
    }
    timers.push(setTimeout(() => timers.push(setInterval(type, request.typingMs)), Math.random() * request.typingMs))
  }
}

/** Each typist sends its final state (stopped typing, idle). */
function sendFinals(): Array<[number, string]> {
  const finals: Array<[number, string]> = []
  for (const entry of clients) {
    if (!entry.typist) continue
    entry.state = { ...entry.state, status: 'idle', typing: null }
    entry.client.send(entry.state)
    finals.push([entry.client.options.clientId, JSON.stringify(entry.state)])
  }
  return finals
}

port.on('message', (request: PresenceRequest) => {
  switch (request.op) {
    case 'connect':
      void connect(request).then((reply) => port.postMessage(reply))
      return
    case 'start':
      start(request)
      port.postMessage({ id: request.id, op: 'started' } satisfies PresenceReply)
      return
    case 'count': {
      const frames = clients.reduce((sum, { client }) => sum + client.frames, 0)
      const dropped = clients.filter(({ client }) => client.dropped).length
      port.postMessage({ id: request.id, op: 'counted', frames, clients: clients.length, dropped } satisfies PresenceReply)
      for (const { client } of clients) {
        client.counting = request.on
        client.frames = 0
      }
      return
    }
    case 'finish':
      // Stop, let the last typing go out on its own, then send the final states.
      for (const timer of timers.splice(0)) clearTimeout(timer)
      setTimeout(
        () => port.postMessage({ id: request.id, op: 'finished', finals: sendFinals(), typed: typed.splice(0) } satisfies PresenceReply),
        request.settleMs,
      )
      return
    case 'close':
      for (const timer of timers.splice(0)) clearTimeout(timer)
      for (const { client } of clients.splice(0)) client.close()
      port.postMessage({ id: request.id, op: 'closed' } satisfies PresenceReply)
  }
})
