/** Light presence clients spread over worker threads (presence-worker.ts), driven from the main thread. */
import { Worker } from 'node:worker_threads'
import type { PresenceAssignment, PresenceReply, PresenceRequest } from './presence-worker.ts'
import { withTimeout } from './wait.ts'

/** How long a thread may take to answer anything but a connect. */
const REPLY_TIMEOUT_MS = 30_000

/** Connections each pool opens at once while ramping up, across its threads. */
const CONNECT_CONCURRENCY = 200

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never

export class PresencePool {
  private readonly workers: Worker[]
  private readonly waiting = new Map<number, { resolve: (reply: PresenceReply) => void; reject: (error: Error) => void }>()
  private nextId = 1

  constructor(threads: number) {
    this.workers = Array.from({ length: Math.max(1, threads) }, () => {
      const worker = new Worker(new URL('./presence-worker.ts', import.meta.url))
      worker.on('message', (reply: PresenceReply) => {
        this.waiting.get(reply.id)?.resolve(reply)
        this.waiting.delete(reply.id)
      })
      worker.on('error', (error: Error) => {
        for (const pending of this.waiting.values()) pending.reject(error)
        this.waiting.clear()
      })
      return worker
    })
  }

  private ask(worker: Worker, request: WithoutId<PresenceRequest>, timeoutMs = REPLY_TIMEOUT_MS): Promise<PresenceReply> {
    const id = this.nextId++
    const reply = new Promise<PresenceReply>((resolve, reject) => this.waiting.set(id, { resolve, reject }))
    worker.postMessage({ ...request, id })
    return withTimeout(reply, timeoutMs, `presence thread ${request.op}`)
  }

  private all(request: WithoutId<PresenceRequest>, timeoutMs?: number): Promise<PresenceReply[]> {
    return Promise.all(this.workers.map((w) => this.ask(w, request, timeoutMs)))
  }

  /** Connects the clients round-robin over the threads; returns how many connected and some failures. */
  async connect(url: string, documentName: string, clients: readonly PresenceAssignment[], timeoutMs: number): Promise<{ ok: number; failures: string[] }> {
    const shares = this.workers.map(() => [] as PresenceAssignment[])
    clients.forEach((client, i) => shares[i % shares.length]?.push(client))
    const concurrency = Math.max(1, Math.ceil(CONNECT_CONCURRENCY / this.workers.length))
    const replies = await Promise.all(
      this.workers.map((w, i) => this.ask(w, { op: 'connect', url, documentName, clients: shares[i] ?? [], concurrency, timeoutMs }, timeoutMs * 4)),
    )
    let ok = 0
    const failures: string[] = []
    for (const reply of replies) {
      if (reply.op !== 'connected') continue
      ok += reply.ok
      failures.push(...reply.failures)
    }
    return { ok, failures }
  }

  async start(heartbeatMs: number, typingMs: number, threadId: string): Promise<void> {
    await this.all({ op: 'start', heartbeatMs, typingMs, threadId })
  }

  /** Frames received since the last call (turning counting on or off), over all clients. */
  async count(on: boolean): Promise<{ frames: number; clients: number; dropped: number }> {
    const total = { frames: 0, clients: 0, dropped: 0 }
    for (const reply of await this.all({ op: 'count', on })) {
      if (reply.op !== 'counted') continue
      total.frames += reply.frames
      total.clients += reply.clients
      total.dropped += reply.dropped
    }
    return total
  }

  /** Stops the schedules; returns each typist's final state (client id, JSON) and the `at` of every typing sent. */
  async finish(settleMs: number): Promise<{ finals: Array<[number, string]>; typed: number[] }> {
    const replies = await this.all({ op: 'finish', settleMs })
    return {
      finals: replies.flatMap((reply) => (reply.op === 'finished' ? reply.finals : [])),
      typed: replies.flatMap((reply) => (reply.op === 'finished' ? reply.typed : [])),
    }
  }

  async terminate(): Promise<void> {
    try {
      await this.all({ op: 'close' })
    } finally {
      await Promise.all(this.workers.map((w) => w.terminate()))
    }
  }
}
