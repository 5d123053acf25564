/**
 * Light readers spread over worker threads (reader-worker.ts), so that receiving a fan-out of a
 * thousand frames uses every core the server leaves free instead of queueing behind one event
 * loop: the load generator must not be what the figures measure.
 */
import os from 'node:os'
import { Worker } from 'node:worker_threads'
import type { Deliveries } from './deliveries.ts'
import { LIGHT_CONNECT_TIMEOUT_MS } from './light-client.ts'
import type { Progress } from './progress.ts'
import type { Collected, ConnectOutcome, ReaderAssignment, WorkerReply, WorkerRequest } from './reader-worker.ts'
import { withTimeout } from './wait.ts'

/** Reader threads by default: one per core. */
export const DEFAULT_READER_THREADS = Math.max(1, os.availableParallelism())

/** Connections each pool opens at once while ramping up, across its threads. */
export const POOL_CONNECT_CONCURRENCY = 200

/** How long a worker may take to answer a collect or close. */
const WORKER_REPLY_TIMEOUT_MS = 30_000

/** A request before it gets its id (Omit applied to each member of the union). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never
type Request = WithoutId<WorkerRequest>

export interface PoolState {
  /** Readers the server closed. */
  dropped: number
  /** Readers synced and still open. */
  open: number
}

export class ReaderPool {
  private readonly workers: Worker[]
  private readonly waiting = new Map<number, { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }>()
  private readonly progressOf = new Map<number, (reply: WorkerReply) => void>()
  private nextId = 1

  constructor(threads: number = DEFAULT_READER_THREADS) {
    this.workers = Array.from({ length: Math.max(1, threads) }, () => {
      const worker = new Worker(new URL('./reader-worker.ts', import.meta.url))
      worker.on('message', (reply: WorkerReply) => {
        if (reply.op === 'progress') {
          this.progressOf.get(reply.id)?.(reply)
          return
        }
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

  private ask(worker: Worker, request: Request, onProgress?: (reply: WorkerReply) => void): Promise<WorkerReply> {
    const id = this.nextId++
    if (onProgress) this.progressOf.set(id, onProgress)
    const reply = new Promise<WorkerReply>((resolve, reject) => this.waiting.set(id, { resolve, reject }))
    worker.postMessage({ ...request, id })
    return reply.finally(() => this.progressOf.delete(id))
  }

  /**
   * Connects readers (round-robin over the threads) and returns each one's outcome in input
   * order. Resolves once every reader is synced or has failed (each has its own timeout).
   */
  async connect(
    url: string,
    clients: readonly ReaderAssignment[],
    options: { keepAlive?: boolean; progress?: Progress; timeoutMs?: number } = {},
  ): Promise<ConnectOutcome[]> {
    const shares = this.workers.map(() => [] as ReaderAssignment[])
    clients.forEach((client, i) => shares[i % shares.length]?.push(client))
    const done = this.workers.map(() => 0)
    const concurrency = Math.max(1, Math.ceil(POOL_CONNECT_CONCURRENCY / this.workers.length))
    const replies = await Promise.all(
      this.workers.map((worker, w) =>
        this.ask(
          worker,
          {
            op: 'connect',
            url,
            clients: shares[w] ?? [],
            keepAlive: options.keepAlive ?? false,
            concurrency,
            timeoutMs: options.timeoutMs ?? LIGHT_CONNECT_TIMEOUT_MS,
          },
          (reply) => {
            if (reply.op !== 'progress') return
            done[w] = reply.done
            options.progress?.update(`connecting readers ${done.reduce((a, b) => a + b, 0)}/${clients.length}`)
          },
        ),
      ),
    )
    const perWorker = replies.map((reply) => (reply.op === 'connected' ? reply.outcomes : []))
    return clients.map((_, i) => {
      const outcome = perWorker[i % perWorker.length]?.[Math.floor(i / perWorker.length)]
      return outcome ?? { ok: false, connectMs: Number.NaN, syncedAt: Number.NaN, bytesAtSync: 0, failure: 'no outcome from its thread' }
    })
  }

  /** Moves the arrivals recorded so far into `deliveries`; returns the readers' state. */
  async drainInto(deliveries: Deliveries): Promise<PoolState> {
    const state: PoolState = { dropped: 0, open: 0 }
    const replies = await withTimeout(Promise.all(this.workers.map((w) => this.ask(w, { op: 'collect' }))), WORKER_REPLY_TIMEOUT_MS, 'reader threads collect')
    for (const reply of replies) {
      if (reply.op !== 'collected') continue
      const collected: Collected = reply.collected
      const { arrivals } = collected
      for (let i = 0; i + 1 < arrivals.length; i += 2) {
        deliveries.receive(arrivals[i] ?? 0, (arrivals[i + 1] ?? 0) - performance.timeOrigin)
      }
      state.dropped += collected.dropped
      state.open += collected.open
    }
    return state
  }

  /** Closes every reader (the threads stay for {@link terminate}). */
  async closeReaders(): Promise<void> {
    await withTimeout(Promise.all(this.workers.map((w) => this.ask(w, { op: 'close' }))), WORKER_REPLY_TIMEOUT_MS, 'reader threads close')
  }

  async terminate(): Promise<void> {
    try {
      await this.closeReaders()
    } finally {
      await Promise.all(this.workers.map((w) => w.terminate()))
    }
  }
}
