/**
 * Access changes across instances (issue 21): a membership or default-role change, a ban or its
 * lift made through one instance is announced on the Redis channel `parley:access`, and every
 * other instance applies it to its own connections (server/moderation/session-changes.ts).
 *
 * Pub/sub delivers at most once: a message sent while an instance's subscriber is reconnecting is
 * lost. So each announcement also moves a counter (`parley:access:generation`), which every
 * instance reads every {@link ACCESS_GENERATION_POLL_MS}; when it moved past what the instance
 * heard, the instance missed something and resolves every connection again before its next
 * message (`Revocation.missed`). A generation is taken as missed when its message has not arrived
 * by the next read, so a revoked socket has nothing applied more than two poll periods after the
 * change, even when the announcement is lost.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { sessionChangeSchema, type SessionChange } from '../moderation/session-changes.ts'
import { REDIS_PREFIX } from './redis.ts'

/** How often an instance reads the cluster's access generation to find announcements it missed. */
export const ACCESS_GENERATION_POLL_MS = 1_000

export interface AccessBusOptions {
  createClient(role: string): Redis
  logger: Logger
  /** A change another instance announced. */
  onChange(change: SessionChange): Promise<unknown>
  /** This instance missed at least one announcement. */
  onMissed(): void
  /** Key and channel prefix (tests give each cluster its own); default {@link REDIS_PREFIX}. */
  prefix?: string
  pollMs?: number
}

export interface AccessBus {
  announce(change: SessionChange): Promise<void>
  close(): Promise<void>
}

export async function createAccessBus(options: AccessBusOptions): Promise<AccessBus> {
  const { logger } = options
  const prefix = options.prefix ?? REDIS_PREFIX
  const channel = `${prefix}:access`
  const generationKey = `${prefix}:access:generation`
  const instance = randomUUID()
  const pub = options.createClient('access-announce')
  const sub = options.createClient('access-listen')
  /** The highest generation this instance announced or heard; null until first read. */
  let heard: number | null = null
  const hear = (generation: number) => {
    if (heard === null || generation > heard) heard = generation
  }

  sub.on('message', (_channel: string, text: string) => {
    let parsed: { generation: number; from: string; change: SessionChange }
    try {
      const raw = JSON.parse(text) as { generation?: unknown; from?: unknown; change?: unknown }
      if (typeof raw.generation !== 'number' || typeof raw.from !== 'string') throw new Error('no generation or sender')
      parsed = { generation: raw.generation, from: raw.from, change: sessionChangeSchema.parse(raw.change) }
    } catch (error) {
      logger.warn({ err: error }, 'an access announcement could not be read')
      return
    }
    hear(parsed.generation)
    if (parsed.from === instance) return
    options.onChange(parsed.change).catch((error: unknown) => logger.error({ err: error, change: parsed.change }, 'an announced access change failed here'))
  })

  /** A generation read beyond what was heard: missed unless its message arrives before the next poll. */
  let suspect: number | null = null
  async function poll(): Promise<void> {
    const value = Number((await pub.get(generationKey)) ?? 0)
    if (heard === null) return hear(value)
    if (suspect !== null && heard < suspect) {
      logger.warn({ heard, generation: suspect }, 'access announcements were missed: every connection is checked again on its next message')
      options.onMissed()
      hear(suspect)
    }
    suspect = value > heard ? value : null
  }
  const timer = setInterval(() => {
    poll().catch((error: unknown) => logger.debug({ err: error }, 'the access generation could not be read'))
  }, options.pollMs ?? ACCESS_GENERATION_POLL_MS)
  timer.unref()
  try {
    await sub.subscribe(channel)
    await poll()
  } catch (error) {
    // Redis is away at start: the poll finds what was missed once it is back.
    logger.warn({ err: error }, 'access announcements are not heard until redis answers')
  }

  return {
    async announce(change) {
      const generation = await pub.incr(generationKey)
      hear(generation)
      await pub.publish(channel, JSON.stringify({ generation, from: instance, change }))
    },
    async close() {
      clearInterval(timer)
      sub.disconnect()
      pub.disconnect()
    },
  }
}
