/**
 * Notifications older than a configurable age leave storage and the inbox documents, and the
 * outbox forgets rows it finished delivering before then. Runs once an interval (and on demand),
 * in batches; the idempotency keys and handled marks stay, so an expired notification is never
 * recorded again. Failures are logged and counted, and the next run tries again.
 */
import type { Logger } from 'pino'
import type { Storage } from '../storage/types.ts'

/** Default age past which a notification (by its latest activity) is removed (`PARLEY_NOTIFICATION_MAX_AGE_DAYS`). */
export const NOTIFICATION_MAX_AGE_DAYS = 90
/** How often expiry runs. */
export const EXPIRY_INTERVAL_MS = 60 * 60_000
/** Notifications removed per storage transaction. */
export const EXPIRY_BATCH = 1_000

const DAY_MS = 86_400_000

export interface ExpiryOptions {
  storage: Storage
  /** Projects a user's inbox document from storage again (the projector's `sync`). */
  sync(userId: string): Promise<void>
  logger: Logger
  maxAgeDays?: number
  intervalMs?: number
  /** Counts a failed run. */
  failed?: () => void
}

export interface NotificationExpiry {
  /** Removes what is older than the maximum age at `now`; resolves with how many notifications left. */
  run(now?: number): Promise<number>
  /** Runs now (in the background) and then once per interval. */
  start(): void
  /** Stops the interval and waits for a run in progress. */
  stop(): Promise<void>
}

export function createExpiry(options: ExpiryOptions): NotificationExpiry {
  const { storage, logger } = options
  const maxAgeMs = (options.maxAgeDays ?? NOTIFICATION_MAX_AGE_DAYS) * DAY_MS
  const intervalMs = options.intervalMs ?? EXPIRY_INTERVAL_MS
  let timer: NodeJS.Timeout | undefined
  let running: Promise<number> = Promise.resolve(0)

  const expire = async (now: number): Promise<number> => {
    const before = now - maxAgeMs
    const users = new Set<string>()
    let removed = 0
    for (;;) {
      const batch = await storage.notifications.expire(before, EXPIRY_BATCH)
      for (const userId of batch.users) users.add(userId)
      removed += batch.removed
      if (batch.removed < EXPIRY_BATCH) break
    }
    for (const userId of users) {
      try {
        await options.sync(userId)
      } catch (error) {
        options.failed?.()
        logger.warn({ err: error, userId }, 'an inbox could not drop its expired notifications; the next projection does')
      }
    }
    if (removed > 0) logger.info({ removed, users: users.size, before }, 'expired old notifications')
    return removed
  }

  const run = (now = Date.now()): Promise<number> => {
    running = running.then(() => expire(now))
    return running
  }

  const background = () => {
    run().catch((error: unknown) => {
      options.failed?.()
      logger.error({ err: error }, 'notification expiry failed; it runs again at the next interval')
    })
  }

  return {
    run,
    start() {
      background()
      timer = setInterval(background, intervalMs)
      timer.unref()
    },
    async stop() {
      clearInterval(timer)
      await running.catch(() => 0)
    },
  }
}
