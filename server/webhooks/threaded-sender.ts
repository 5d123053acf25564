/**
 * A webhook sender on a worker thread (sender-worker.ts): the main thread only posts jobs (those of
 * one turn in one message) and resolves their answers. The worker starts with the first job; if it
 * dies, what it had in flight resolves with no answer (retried on the schedule like a timeout) and
 * the next job starts a new one.
 */
import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { PostAnswer } from './post.ts'
import { CLOSING, type SenderSettings, type WebhookJob, type WebhookSender } from './sender.ts'

export type ToSender = { type: 'send'; jobs: Array<WebhookJob & { seq: number }> } | { type: 'close' }
export type FromSender = { type: 'answers'; answers: Array<{ seq: number; answer: PostAnswer }> }

/** The worker's module: its TypeScript source in a checkout, the compiled file in the package. */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './sender-worker.ts' : './sender-worker.js', import.meta.url)

export function createThreadedSender(settings: SenderSettings, logger: Logger): WebhookSender {
  const pending = new Map<number, (answer: PostAnswer) => void>()
  let worker: Worker | undefined
  let jobs: Array<WebhookJob & { seq: number }> = []
  let seq = 0
  let closed = false

  const answerAll = (answer: PostAnswer) => {
    for (const resolve of pending.values()) resolve(answer)
    pending.clear()
  }

  function start(): Worker {
    const started = new Worker(WORKER_URL, { workerData: settings })
    started.unref()
    started.on('message', (message: FromSender) => {
      for (const { seq: done, answer } of message.answers) {
        pending.get(done)?.(answer)
        pending.delete(done)
      }
      if (closed && pending.size === 0) void started.terminate()
    })
    started.on('error', (error) => logger.error({ err: error }, 'webhooks: the sender thread failed; what it had in flight is tried again'))
    started.on('exit', () => {
      if (worker === started) worker = undefined
      answerAll(closed ? CLOSING : { status: null, retryAfter: null, error: 'the sender thread exited' })
    })
    return started
  }

  function flush(): void {
    const message: ToSender = { type: 'send', jobs }
    jobs = []
    if (closed) {
      for (const job of message.jobs) {
        pending.get(job.seq)?.(CLOSING)
        pending.delete(job.seq)
      }
      return
    }
    worker ??= start()
    worker.postMessage(message)
  }

  return {
    start() {
      if (!closed) worker ??= start()
    },
    send(job) {
      if (closed) return Promise.resolve(CLOSING)
      const id = seq++
      if (jobs.length === 0) queueMicrotask(flush)
      jobs.push({ ...job, seq: id })
      return new Promise<PostAnswer>((resolve) => pending.set(id, resolve))
    },
    close() {
      closed = true
      if (!worker) return answerAll(CLOSING)
      const message: ToSender = { type: 'close' }
      worker.postMessage(message)
      if (pending.size === 0) void worker.terminate()
    },
  }
}
