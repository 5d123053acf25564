/**
 * Webhooks (issue 17): every typed event is recorded in the storage's outbox, then POSTed to
 * `PARLEY_WEBHOOK_URL` by a loop of its own, signed both ways (core/webhooks/signing.ts). At least
 * once, in order per subject, on the retry schedule (core/webhooks/schedule.ts), then `dead` (also a
 * delivery record with channel `webhook`, so `GET /api/v1/deliveries?status=dead` lists it).
 * A 410 pauses the endpoint until `resume()` or a restart. Sends run with bounded concurrency and a
 * timeout, so a slow or absent receiver never holds sockets, the inbox or push; signing and the HTTP
 * exchanges run on a worker thread (threaded-sender.ts), claims and records on this one.
 *
 * Instances sharing the storage share the outbox: each claims the events it sends for a lease
 * (storage `claim`, `FOR UPDATE SKIP LOCKED` on PostgreSQL), so an event is sent by one instance at
 * a time, and only the oldest pending event of a subject can be claimed (order per subject). An
 * instance killed mid-send leaves its claim to run out; then another instance sends the event.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { ParleyEvents } from '../../core/events.ts'
import type { NewWebhook, Storage, WebhookChange, WebhookRecord } from '../../core/storage/types.ts'
import { deliveryId } from '../../core/delivery/deliveries.ts'
import { webhookBody, webhookSubject } from '../../core/webhooks/events.ts'
import { classifyAnswer, DEFAULT_WEBHOOK_SCHEDULE_MS, nextAttemptAt } from '../../core/webhooks/schedule.ts'
import type { WebhookMetrics } from '../observability/webhook-metrics.ts'
import type { PostAnswer } from './post.ts'
import { createInlineSender } from './sender.ts'
import { createThreadedSender } from './threaded-sender.ts'
import { turnBatch } from './turn-batch.ts'

/** How long one POST may take before it counts as no answer. */
export const WEBHOOK_TIMEOUT_MS = 10_000
/**
 * POSTs in flight at once (each for a different subject): 500 events/s to a receiver answering in
 * 50 ms need 25 at the least; on a busy machine each exchange takes longer (bench/webhooks.ts).
 */
export const WEBHOOK_CONCURRENCY = 128
/** POSTs started between two turns of the event loop: a claim of 128 never holds up sockets for the time it takes to sign and send them all. */
export const WEBHOOK_POSTS_PER_TURN = 16
/** Events recorded and POSTs finished within this share one look at the outbox (one claim instead of one each). */
export const WEBHOOK_COALESCE_MS = 5
/** How long a claim outlives the POST's timeout before another instance may take the event over. */
export const WEBHOOK_LEASE_MARGIN_MS = 5_000
/** The longest the loop sleeps before looking at the outbox again (events of other instances, retried deliveries). */
export const WEBHOOK_POLL_MS = 1_000
/** The delivery channel of dead webhooks in `/api/v1/deliveries`. */
export const WEBHOOK_CHANNEL = 'webhook'

export interface WebhookOptions {
  /** Delays before each attempt (ms); default {@link DEFAULT_WEBHOOK_SCHEDULE_MS}. Tests shorten it. */
  schedule?: readonly number[]
  timeoutMs?: number
  concurrency?: number
  pollMs?: number
  /** How long a claimed event stays with this instance (default: the timeout plus {@link WEBHOOK_LEASE_MARGIN_MS}). */
  leaseMs?: number
  /** Default {@link WEBHOOK_COALESCE_MS}. */
  coalesceMs?: number
  /** Sign and POST on a worker thread (default true), or on the main thread. */
  thread?: boolean
}

export interface WebhookDependencies extends WebhookOptions {
  url: string
  secret: string
  storage: Storage
  events: ParleyEvents
  logger: Logger
  metrics: WebhookMetrics
  now?: () => number
}

export interface WebhookService {
  start(): void
  /** True after a 410, until {@link resume}. */
  readonly paused: boolean
  resume(): void
  /** Looks at the outbox now. */
  kick(): void
  /** Stops the loop and waits for the POSTs in flight (aborted) to be recorded. */
  close(): Promise<void>
}

export function createWebhooks(deps: WebhookDependencies): WebhookService {
  const { url, secret, storage, logger, metrics } = deps
  const schedule = deps.schedule ?? DEFAULT_WEBHOOK_SCHEDULE_MS
  const timeoutMs = deps.timeoutMs ?? WEBHOOK_TIMEOUT_MS
  const concurrency = deps.concurrency ?? WEBHOOK_CONCURRENCY
  const pollMs = deps.pollMs ?? WEBHOOK_POLL_MS
  const coalesceMs = deps.coalesceMs ?? WEBHOOK_COALESCE_MS
  const now = deps.now ?? Date.now
  const leaseMs = Math.max(deps.leaseMs ?? timeoutMs + WEBHOOK_LEASE_MARGIN_MS, timeoutMs)
  /** This instance's name on its claims. */
  const owner = randomUUID()
  const sender = (deps.thread ?? true) ? createThreadedSender({ url, secret, timeoutMs }, logger) : createInlineSender({ url, secret, timeoutMs })
  const inFlight = new Map<string, Promise<void>>()
  let started = false
  let closed = false
  let paused = false
  let pumping = false
  let again = false
  let timer: NodeJS.Timeout | undefined
  let timerAt = 0

  // Records events in the order they were emitted, those of one turn in one storage call, one call
  // at a time: with a pool of connections (PostgreSQL) concurrent inserts could take their `seq` out
  // of order and break order per subject.
  const enqueue = turnBatch(async (records: NewWebhook[]) => {
    await storage.webhooks.enqueueMany(records)
    return () => undefined
  })
  // Attempts that finish in one turn (the sender thread answers in batches) are recorded in one transaction.
  const recordOutcome = turnBatch(async (outcomes: Array<{ id: string; change: WebhookChange }>) => {
    const held = new Set(await storage.webhooks.settleMany(owner, outcomes))
    return (outcome: { id: string }) => held.has(outcome.id)
  })
  const stopListening = deps.events.onAny(async (event) => {
    const entry: NewWebhook = {
      id: event.id,
      type: event.type,
      subject: webhookSubject(event),
      body: webhookBody(event),
      nextAt: event.createdAt,
      createdAt: event.createdAt,
    }
    try {
      await enqueue(entry)
    } catch (error) {
      metrics.recordFailed()
      throw error
    }
    kick()
  })

  /** Looks at the outbox after `delayMs` (at most the poll period), unless a look is due sooner already. */
  function wake(delayMs: number): void {
    if (closed || !started) return
    const at = Date.now() + Math.max(0, Math.min(delayMs, pollMs))
    if (timer !== undefined && timerAt <= at) return
    clearTimeout(timer)
    timerAt = at
    timer = setTimeout(() => {
      timer = undefined
      void pump()
    }, at - Date.now())
  }

  /** Looks soon: events recorded and POSTs finished within {@link WEBHOOK_COALESCE_MS} share one claim. */
  function kick(): void {
    wake(coalesceMs)
  }

  async function pump(): Promise<void> {
    if (pumping) {
      again = true
      return
    }
    pumping = true
    try {
      do {
        again = false
        if (closed || paused) return
        const free = concurrency - inFlight.size
        if (free <= 0) return
        const due = await storage.webhooks.claim(now(), free, owner, leaseMs)
        for (const [index, record] of due.entries()) {
          if (index > 0 && index % WEBHOOK_POSTS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve))
          const sending = send(record).finally(() => {
            inFlight.delete(record.subject)
            kick()
          })
          inFlight.set(record.subject, sending)
        }
        if (due.length === 0) {
          // a pending event already due but not offered waits behind its subject (a POST in flight,
          // which kicks when done, or an earlier event retried later): look again after pollMs, no sooner
          const next = await storage.webhooks.nextDue()
          const delay = next === null ? pollMs : next - now()
          wake(delay > 0 ? delay : pollMs)
        }
      } while (again)
    } catch (error) {
      logger.error({ err: error }, 'webhooks: the outbox could not be read')
      wake(pollMs)
    } finally {
      pumping = false
    }
  }

  function post(record: WebhookRecord): Promise<PostAnswer> {
    return sender.send({ id: record.id, timestamp: Math.floor(now() / 1000), body: record.body })
  }

  /** Records the attempt while this instance still holds the event; false when its claim ran out and another took it. */
  async function settle(record: WebhookRecord, change: WebhookChange): Promise<boolean> {
    const held = await recordOutcome({ id: record.id, change })
    if (!held)
      logger.warn({ eventId: record.id, status: change.status }, 'webhooks: a claim ran out before its attempt was recorded; another instance has the event')
    return held
  }

  async function send(record: WebhookRecord): Promise<void> {
    const answer = await post(record)
    if (closed && answer.status === null) return // aborted by close: still pending, released by close for whoever runs next
    const at = now()
    const outcome = classifyAnswer(answer.status, answer.retryAfter, at)
    const attempts = record.attempts + 1
    try {
      if (outcome.kind === 'sent') {
        metrics.attempt('sent')
        metrics.delivered(Math.max(0, at - record.createdAt) / 1000)
        await settle(record, { status: 'sent', attempts, nextAt: record.nextAt, lastError: null, updatedAt: at })
        return
      }
      if (outcome.kind === 'gone') {
        metrics.attempt('gone')
        if (!paused) logger.error({ url, eventId: record.id }, 'webhooks: the receiver answered 410 Gone; the endpoint is paused until resumed or restarted')
        paused = true
        metrics.paused(true)
        // not an attempt that counts: the event waits, due at once, for the endpoint to come back
        await settle(record, { status: 'pending', attempts: record.attempts, nextAt: at, lastError: answer.error, updatedAt: at })
        return
      }
      metrics.attempt(answer.status === null ? 'no_answer' : 'retry')
      const nextAt = nextAttemptAt(schedule, attempts, at, outcome.retryAfterMs)
      if (nextAt !== null) {
        await settle(record, { status: 'pending', attempts, nextAt, lastError: answer.error, updatedAt: at })
        return
      }
      if (!(await settle(record, { status: 'dead', attempts, nextAt: record.nextAt, lastError: answer.error, updatedAt: at }))) return
      metrics.dead()
      logger.warn({ eventId: record.id, type: record.type, attempts, lastError: answer.error }, 'webhooks: an event is dead')
      await storage.deliveries.put({
        id: deliveryId('', record.id, WEBHOOK_CHANNEL, null),
        userId: '',
        notificationId: record.id,
        channel: WEBHOOK_CHANNEL,
        deviceId: null,
        status: 'dead',
        reason: answer.error,
        attempts,
        round: record.createdAt,
        updatedAt: at,
      })
    } catch (error) {
      logger.error({ err: error, eventId: record.id }, 'webhooks: an attempt could not be recorded (it is tried again)')
    }
  }

  return {
    start() {
      started = true
      sender.start()
      kick()
    },
    get paused() {
      return paused
    },
    resume() {
      paused = false
      metrics.paused(false)
      kick()
    },
    kick,
    async close() {
      closed = true
      stopListening()
      clearTimeout(timer)
      sender.close()
      await Promise.allSettled([...inFlight.values()])
      try {
        await storage.webhooks.release(owner)
      } catch (error) {
        logger.warn({ err: error }, 'webhooks: claims not released; they run out after their lease')
      }
    },
  }
}
