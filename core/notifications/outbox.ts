/**
 * Drains the durable outbox: per channel, claims due rows (leased, so that another drain or
 * instance skips them), hands them to the channel's deliverer, and records each row's outcome:
 * delivered (with the version delivered), or failed and due again after an exponential backoff.
 * A kick drains at once (after each recording); a poll picks up retries and rows other instances
 * or a previous run left.
 */
import type { Logger } from 'pino'
import type { OutboxRow, Storage } from '../storage/types.ts'
import type { Deliverer } from './projector.ts'

/** Rows claimed per round. */
export const OUTBOX_BATCH = 200

/** How long a claim holds rows; a drain that dies leaves them due again after this. */
export const OUTBOX_LEASE_MS = 10_000

/** Poll period for retries and rows left by others. */
export const OUTBOX_POLL_MS = 1_000

/** First retry delay; doubles per attempt. */
export const OUTBOX_RETRY_BASE_MS = 500

/** Longest retry delay. */
export const OUTBOX_RETRY_MAX_MS = 5 * 60_000

/** Longest a lane waits for the first channel's lane (the inbox) to be idle before a round. */
export const OUTBOX_YIELD_MAX_MS = 1_000

export interface OutboxMetrics {
  delivered(channel: string, count: number): void
  failed(channel: string, count: number): void
  hookError(hook: string): void
}

export interface Outbox {
  /** Drains soon (coalesced). */
  kick(): void
  start(): void
  /** Stops polling and waits for the drain under way. */
  stop(): Promise<void>
}

export function retryDelay(attempts: number): number {
  return Math.min(OUTBOX_RETRY_MAX_MS, OUTBOX_RETRY_BASE_MS * 2 ** attempts)
}

export interface OutboxOptions {
  storage: Storage
  /**
   * The deliverer of each channel. The first one (the inbox) goes first: before each round the
   * other lanes wait for its lane to be idle (at most {@link OUTBOX_YIELD_MAX_MS}), so a burst of
   * pushes or emails never holds up what people are looking at.
   */
  channels: Record<string, Deliverer>
  logger: Logger
  metrics?: OutboxMetrics | undefined
}

export function createOutbox(options: OutboxOptions): Outbox {
  const { storage, channels, logger, metrics } = options
  let stopped = false
  let poll: NodeJS.Timeout | undefined

  const drainChannel = async (channel: string, deliverer: Deliverer, yieldTo: () => Promise<void>) => {
    for (;;) {
      await yieldTo()
      const rows = await storage.notifications.claimOutbox(channel, Date.now(), OUTBOX_LEASE_MS, OUTBOX_BATCH)
      if (rows.length === 0) return
      const outcomes = await deliverer.deliver(rows)
      const done: OutboxRow[] = []
      for (const [i, row] of rows.entries()) {
        const outcome = outcomes[i] ?? null
        if (outcome === null) done.push(row)
        else if (typeof outcome === 'string') await storage.notifications.outboxFailed(row, outcome, Date.now() + retryDelay(row.attempts))
        else await storage.notifications.outboxFailed(row, outcome.error, outcome.retryAt)
      }
      await storage.notifications.outboxDelivered(done, Date.now())
      metrics?.delivered(channel, done.length)
      if (rows.length > done.length) metrics?.failed(channel, rows.length - done.length)
      if (rows.length < OUTBOX_BATCH) return
    }
  }

  // Each channel drains on its own, so that a slow push service never holds up the inbox.
  const lanes: Array<{ kick(): void; idle(): Promise<void> }> = []
  const firstIdle = async () => {
    const first = lanes[0]
    if (!first) return
    let timer: NodeJS.Timeout | undefined
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, OUTBOX_YIELD_MAX_MS)
      timer.unref()
    })
    await Promise.race([first.idle(), waited])
    clearTimeout(timer)
  }
  const noWait = () => Promise.resolve()
  for (const [index, [channel, deliverer]] of Object.entries(channels).entries()) {
    let draining: Promise<void> | null = null
    let again = false
    const drain = async () => {
      do {
        again = false
        try {
          await drainChannel(channel, deliverer, index === 0 ? noWait : firstIdle)
        } catch (error) {
          metrics?.hookError('outbox')
          logger.error({ channel, err: error }, 'outbox drain failed; the next poll retries')
        }
      } while (again && !stopped)
    }
    lanes.push({
      kick() {
        if (stopped) return
        if (draining) {
          again = true
          return
        }
        draining = drain().finally(() => {
          draining = null
        })
      },
      idle: () => draining ?? Promise.resolve(),
    })
  }

  const kick = () => {
    for (const lane of lanes) lane.kick()
  }

  return {
    kick,
    start() {
      poll = setInterval(kick, OUTBOX_POLL_MS)
      poll.unref()
      kick()
    },
    async stop() {
      stopped = true
      clearInterval(poll)
      await Promise.all(lanes.map((lane) => lane.idle()))
    },
  }
}
