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
import type { Redis as IORedisClient, RedisOptions } from 'ioredis'
import type { Logger } from 'pino'
import type { ReadinessCheck } from '../http/app.ts'

/** Prefix of every Redis key and channel Parley uses. */
export const REDIS_PREFIX = 'parley'

/** Connection options: fail commands fast while Redis is away instead of queueing them forever. */
const CLIENT_OPTIONS: RedisOptions = { maxRetriesPerRequest: 3, enableOfflineQueue: true }

export interface RedisScaling {
  extension: RedisExtension
  /** A new connection with Parley's options, its errors logged under `role` (the caller disconnects it). */
  createClient(role: string): IORedisClient
  readiness: ReadinessCheck
  close(): Promise<void>
}

/** Publishes a SyncStep1 (this instance's state vector) for `name` on the document's channel. */
async function announce(extension: RedisExtension, name: string, document: Document): Promise<void> {
  const message = new OutgoingMessage(name).createSyncMessage().writeFirstSyncStepFor(document).toUint8Array()
  await extension.pub.publish(`${REDIS_PREFIX}:${name}`, Buffer.concat([extension.messagePrefix, Buffer.from(message)]))
}

/**
 * Each time the subscriber connection is ready (again), subscribes the channel of every loaded
 * document (those loaded while Redis was away have none yet) and announces it. ioredis emits
 * `ready` before it re-subscribes, so the announcement waits for a PING on the subscriber
 * connection: it is answered after the subscriptions, and the peers' answers find this instance
 * listening.
 */
function resyncOnReconnect(extension: RedisExtension, logger: Logger): void {
  extension.sub.on('ready', () => {
    const resync = async () => {
      await Promise.resolve()
      // A round trip first: a document whose load skipped Redis just before it came back is then listed.
      await extension.sub.ping()
      // `instance` is set by the extension's onConfigure; before it nothing is loaded.
      const documents = (extension.instance as typeof extension.instance | undefined)?.documents ?? new Map<string, Document>()
      if (documents.size === 0) return
      await Promise.all([...documents.keys()].map((name) => extension.sub.subscribe(`${REDIS_PREFIX}:${name}`)))
      await extension.sub.ping()
      for (const [name, document] of documents) await announce(extension, name, document)
      logger.info({ documents: documents.size }, 'redis connected: documents announced to the other instances')
    }
    resync().catch((error: unknown) => logger.warn({ err: error }, 'redis connected but the documents could not be announced'))
  })
}

/**
 * A document loads from storage, which holds every acknowledged update, so it does not need Redis
 * to load: while Redis is away the extension's `afterLoadDocument` (subscribe, announce, wait for
 * peers) is skipped, and if it fails it is logged instead of refusing the client. The channel is
 * subscribed and the document announced when Redis is back ({@link resyncOnReconnect}).
 */
function loadWithoutRedis(extension: RedisExtension, logger: Logger): void {
  const afterLoadDocument = extension.afterLoadDocument.bind(extension)
  extension.afterLoadDocument = async (payload) => {
    if (extension.sub.status !== 'ready') {
      logger.warn({ documentName: payload.documentName }, 'redis is away: document loaded without the other instances')
      return
    }
    try {
      await afterLoadDocument(payload)
    } catch (error) {
      logger.warn({ err: error, documentName: payload.documentName }, 'redis failed: document loaded without the other instances')
    }
  }
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
  loadWithoutRedis(extension, logger)
  return {
    extension,
    createClient: client,
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
