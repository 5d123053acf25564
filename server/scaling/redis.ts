/**
 * Several instances serve the same documents through @hocuspocus/extension-redis (`REDIS_URL`).
 * Updates relayed from another instance carry the `redis` transaction origin: they were checked
 * and stored where they entered, so this instance neither stores nor re-checks them.
 */
import type { Redis as RedisExtension } from '@hocuspocus/extension-redis'
import type { RedisOptions } from 'ioredis'
import type { Logger } from 'pino'
import type { ReadinessCheck } from '../http/app.ts'

/** Prefix of every Redis key and channel Parley uses. */
export const REDIS_PREFIX = 'parley'

/** Connection options: fail commands fast while Redis is away instead of queueing them forever. */
const CLIENT_OPTIONS: RedisOptions = { maxRetriesPerRequest: 3, enableOfflineQueue: true }

export interface RedisScaling {
  extension: RedisExtension
  readiness: ReadinessCheck
  close(): Promise<void>
}

/** Loaded only when `REDIS_URL` is set: a single node does not pay for ioredis. */
export async function createRedisScaling(url: string, logger: Logger): Promise<RedisScaling> {
  const [{ Redis: IORedis }, { Redis: RedisExtension }] = await Promise.all([import('ioredis'), import('@hocuspocus/extension-redis')])
  const client = (role: string) => {
    const redis = new IORedis(url, CLIENT_OPTIONS)
    // Without a listener, ioredis reports connection errors as unhandled 'error' events.
    redis.on('error', (error: Error) => logger.warn({ err: error, role }, 'redis connection error'))
    return redis
  }
  const probe = client('readiness')
  const extension = new RedisExtension({ createClient: () => client('hocuspocus'), prefix: REDIS_PREFIX })
  return {
    extension,
    readiness: {
      name: 'redis',
      async check() {
        const answer = await probe.ping()
        if (answer !== 'PONG') throw new Error(`redis answered ${answer}`)
      },
    },
    async close() {
      probe.disconnect()
    },
  }
}
