/**
 * Several instances serve the same documents through @hocuspocus/extension-redis (`REDIS_URL`).
 * Updates relayed from another instance carry the `redis` transaction origin: they were checked
 * and stored where they entered, so this instance neither stores nor re-checks them.
 *
 * While Redis is away each instance keeps serving (and storing) its own clients' updates, but the
 * other instances do not hear of them. When the subscriber connection is back, this instance
 * publishes its state vector for every document it has loaded: each peer answers with what this
 * instance misses and its own state vector, which this instance answers in turn, so every
 * document converges without waiting for its next change (docs/OPERATIONS.md, "Redis restarts").
 */
import { OutgoingMessage, type Document } from '@hocuspocus/server'
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

/** Publishes a SyncStep1 (this instance's state vector) for `name` on the document's channel. */
async function announce(extension: RedisExtension, name: string, document: Document): Promise<void> {
  const message = new OutgoingMessage(name).createSyncMessage().writeFirstSyncStepFor(document).toUint8Array()
  await extension.pub.publish(`${REDIS_PREFIX}:${name}`, Buffer.concat([extension.messagePrefix, Buffer.from(message)]))
}

/**
 * After the subscriber reconnects, announces every loaded document. ioredis emits `ready` before
 * it re-subscribes, so the announcement waits for a PING on the subscriber connection: it is
 * answered after the re-subscriptions, and the peers' answers find this instance listening.
 */
function resyncOnReconnect(extension: RedisExtension, logger: Logger): void {
  let connectedBefore = false
  extension.sub.on('ready', () => {
    if (!connectedBefore) {
      connectedBefore = true
      return
    }
    const resync = async () => {
      await Promise.resolve()
      await extension.sub.ping()
      // `instance` is set by the extension's onConfigure; before it nothing is loaded.
      const documents = (extension.instance as typeof extension.instance | undefined)?.documents ?? new Map<string, Document>()
      for (const [name, document] of documents) await announce(extension, name, document)
      logger.info({ documents: documents.size }, 'redis reconnected: documents announced to the other instances')
    }
    resync().catch((error: unknown) => logger.warn({ err: error }, 'redis reconnected but the documents could not be announced'))
  })
}

/**
 * extension-redis subscribes to its reply channel once, in its constructor, and every document
 * load awaits that promise. When Redis is not there at that moment (an instance started before
 * Redis, or Redis gone within its first milliseconds) the promise stays rejected and no document
 * can ever load on this instance, even after Redis is back. So each time the subscriber connection
 * is ready, subscribe again and hand the extension the fresh promise (`replySubscription` is
 * private to TypeScript only; the extension reads it on every load).
 */
function keepReplySubscription(extension: RedisExtension, logger: Logger): void {
  const channel = `${REDIS_PREFIX}#reply:${extension.configuration.identifier}`
  extension.sub.on('ready', () => {
    const subscribed = (async () => {
      // After ioredis' own re-subscriptions, which it sends right after emitting `ready`.
      await Promise.resolve()
      await extension.sub.subscribe(channel)
    })()
    subscribed.catch((error: unknown) => logger.warn({ err: error }, 'redis: the reply channel could not be subscribed'))
    Reflect.set(extension, 'replySubscription', subscribed)
  })
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
  keepReplySubscription(extension, logger)
  resyncOnReconnect(extension, logger)
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
