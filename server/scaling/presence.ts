/**
 * Presence across instances (`REDIS_URL`): a registry that wraps this instance's memory registry
 * (writes land there at once, the local part of every read stays in memory) and publishes this
 * instance's part to Redis, where the other instances read it.
 *
 * Redis holds, under the prefix (`parley:presence` by default):
 * - `<prefix>:doc:<documentName>`: a hash, one field per instance, whose value is JSON
 *   `{ expiresAt, clients }` (the awareness clients the instance holds for the document, typing
 *   only while fresh there; see presence-merge.ts for how copies of one client count once);
 * - `<prefix>:user:<userId>`: a hash, one field per instance: `{ expiresAt, online }`;
 * - `<prefix>:seen:<userId>`: the user's last-seen time (ms), kept {@link PRESENCE_SEEN_TTL_MS}, so
 *   it survives restarts.
 * Each instance rewrites its fields every {@link PRESENCE_HEARTBEAT_MS} in one pipeline, and within
 * {@link PRESENCE_FLUSH_MS} of a change. Readers ignore (and prune) fields whose `expiresAt` passed,
 * so an instance killed without a shutdown disappears from every answer within
 * {@link PRESENCE_ENTRY_TTL_MS}; a key nobody renews expires as a whole. A graceful shutdown deletes
 * this instance's fields at once.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { TYPING_STALE_MS, type PresenceState } from '../../protocol/index.ts'
import type { PresenceRegistry } from '../../core/presence/registry.ts'
import { REDIS_PREFIX } from './redis.ts'
import { mergeRemote, parseEntry, remoteClients, type RemoteClient, type RemoteEntry } from './presence-merge.ts'

/** How often an instance rewrites its presence entries in Redis. */
export const PRESENCE_HEARTBEAT_MS = 5_000

/** An entry not rewritten for this long is ignored: the longest a dead instance's users stay present. */
export const PRESENCE_ENTRY_TTL_MS = 15_000

/** A change (connection, awareness state) reaches Redis within this delay, coalesced with the others. */
export const PRESENCE_FLUSH_MS = 100

/** How long a user's last-seen time is kept in Redis after they were last seen. */
export const PRESENCE_SEEN_TTL_MS = 90 * 24 * 3_600_000

export interface ClusterPresenceOptions {
  prefix: string
  heartbeatMs?: number
  entryTtlMs?: number
  flushMs?: number
  logger: Logger
  /** Counts a failed write or read (the registry logs and carries on with the local part). */
  onError?: (operation: string) => void
}

export interface ClusterPresence {
  registry: PresenceRegistry
  /** Stops beating and deletes this instance's entries (graceful shutdown). */
  close(): Promise<void>
  /** Stops beating and leaves the entries to expire, as a killed instance would (tests, drills). */
  abandon(): void
}

export function createClusterPresence(redis: Redis, local: PresenceRegistry, options: ClusterPresenceOptions): ClusterPresence {
  const instanceId = randomUUID()
  const heartbeatMs = options.heartbeatMs ?? PRESENCE_HEARTBEAT_MS
  const entryTtlMs = options.entryTtlMs ?? PRESENCE_ENTRY_TTL_MS
  const flushMs = options.flushMs ?? PRESENCE_FLUSH_MS
  const key = (kind: 'doc' | 'user' | 'seen', id: string) => `${options.prefix}:${kind}:${id}`
  /** The awareness clients this instance holds, per document, with when their typing was first seen here. */
  const documents = new Map<string, Map<number, { state: PresenceState; typingSeenAt: number }>>()
  /** Documents whose entry emptied since the last flush. */
  const emptied = new Set<string>()
  /** Users this instance has (or just had) an entry for. */
  const users = new Set<string>()
  /** Users seen since the last flush, with the time. */
  const seen = new Map<string, number>()
  let flushTimer: NodeJS.Timeout | undefined
  let stopped = false

  const failed = (operation: string, error: unknown) => {
    options.onError?.(operation)
    options.logger.warn({ err: error, operation }, 'cluster presence: redis failed')
  }

  async function flush(): Promise<void> {
    const now = Date.now()
    const expiresAt = now + entryTtlMs
    const pipeline = redis.pipeline()
    for (const documentName of emptied) pipeline.hdel(key('doc', documentName), instanceId)
    emptied.clear()
    for (const [documentName, states] of documents) {
      const clients: RemoteClient[] = [...states].map(([clientId, { state, typingSeenAt }]) => ({
        clientId,
        id: state.user.id,
        name: state.user.name,
        status: state.status,
        typing: state.typing && now - typingSeenAt <= TYPING_STALE_MS ? state.typing : null,
      }))
      pipeline.hset(key('doc', documentName), instanceId, JSON.stringify({ expiresAt, clients }))
      pipeline.pexpire(key('doc', documentName), entryTtlMs)
    }
    for (const userId of [...users]) {
      const { online } = await local.user(userId)
      if (!online) {
        pipeline.hdel(key('user', userId), instanceId)
        users.delete(userId)
        continue
      }
      pipeline.hset(key('user', userId), instanceId, JSON.stringify({ expiresAt, online }))
      pipeline.pexpire(key('user', userId), entryTtlMs)
    }
    for (const [userId, at] of seen) pipeline.set(key('seen', userId), String(at), 'PX', PRESENCE_SEEN_TTL_MS)
    seen.clear()
    if (pipeline.length > 0) await pipeline.exec()
  }

  const run = () => {
    if (stopped) return
    flush().catch((error: unknown) => failed('flush', error))
  }
  const changed = () => {
    if (stopped || flushTimer) return
    flushTimer = setTimeout(() => {
      flushTimer = undefined
      run()
    }, flushMs)
    flushTimer.unref()
  }
  const beat = setInterval(run, heartbeatMs)
  beat.unref()

  const stop = () => {
    stopped = true
    clearInterval(beat)
    clearTimeout(flushTimer)
  }

  /** Other instances' live entries in a hash; expired ones are pruned. */
  async function remote(hashKey: string): Promise<RemoteEntry[]> {
    const now = Date.now()
    const entries: RemoteEntry[] = []
    const expired: string[] = []
    for (const [field, value] of Object.entries(await redis.hgetall(hashKey))) {
      if (field === instanceId) continue
      const entry = parseEntry(value)
      if (entry && entry.expiresAt > now) entries.push(entry)
      else expired.push(field)
    }
    if (expired.length > 0) redis.hdel(hashKey, ...expired).catch((error: unknown) => failed('prune', error))
    return entries
  }
  async function orLocal<T>(operation: string, read: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await read()
    } catch (error) {
      failed(operation, error)
      return fallback
    }
  }

  const forget = (documentName: string) => {
    if (documents.delete(documentName)) emptied.add(documentName)
  }
  const localIds = (documentName: string): Set<number> => new Set(documents.get(documentName)?.keys())

  const registry: PresenceRegistry = {
    connected(userId, documentName, socketId) {
      local.connected(userId, documentName, socketId)
      users.add(userId)
      seen.set(userId, Date.now())
      changed()
    },
    disconnected(userId, documentName, socketId) {
      local.disconnected(userId, documentName, socketId)
      seen.set(userId, Date.now())
      changed()
    },
    seen(userId) {
      local.seen(userId)
      // Written with the next beat: awareness messages are frequent, last-seen is coarse.
      seen.set(userId, Date.now())
    },
    setState(documentName, clientId, state) {
      local.setState(documentName, clientId, state)
      let states = documents.get(documentName)
      if (!states) {
        states = new Map()
        documents.set(documentName, states)
      }
      const previous = states.get(clientId)
      const sameTyping = previous?.state.typing && state.typing && previous.state.typing.at === state.typing.at
      states.set(clientId, { state, typingSeenAt: sameTyping ? previous.typingSeenAt : Date.now() })
      changed()
    },
    removeState(documentName, clientId) {
      local.removeState(documentName, clientId)
      const states = documents.get(documentName)
      states?.delete(clientId)
      if (states?.size === 0) forget(documentName)
      changed()
    },
    clearDocument(documentName) {
      local.clearDocument(documentName)
      forget(documentName)
      changed()
    },
    async user(userId) {
      const mine = await local.user(userId)
      const [entries, stored] = await orLocal(
        'user',
        () => Promise.all([mine.online ? Promise.resolve([]) : remote(key('user', userId)), redis.get(key('seen', userId))]),
        [[], null] as [RemoteEntry[], string | null],
      )
      const online = mine.online || entries.some((entry) => entry.online === true)
      const storedAt = stored === null ? null : Number(stored)
      const lastSeenAt = mine.lastSeenAt === null ? storedAt : storedAt === null ? mine.lastSeenAt : Math.max(mine.lastSeenAt, storedAt)
      return { online, lastSeenAt }
    },
    async document(documentName) {
      const mine = await local.document(documentName)
      const entries = await orLocal('document', () => remote(key('doc', documentName)), [])
      return mergeRemote(mine, remoteClients(entries, localIds(documentName)))
    },
    async isPresent(userId, documentName) {
      if (await local.isPresent(userId, documentName)) return true
      const entries = await orLocal('isPresent', () => remote(key('doc', documentName)), [])
      return remoteClients(entries, localIds(documentName)).some((client) => client.id === userId && client.status === 'active')
    },
  }

  return {
    registry,
    abandon: stop,
    async close() {
      stop()
      const pipeline = redis.pipeline()
      for (const documentName of [...documents.keys(), ...emptied]) pipeline.hdel(key('doc', documentName), instanceId)
      for (const userId of users) pipeline.hdel(key('user', userId), instanceId)
      for (const [userId, at] of seen) pipeline.set(key('seen', userId), String(at), 'PX', PRESENCE_SEEN_TTL_MS)
      try {
        if (pipeline.length > 0) await pipeline.exec()
      } catch (error) {
        failed('close', error)
      }
    },
  }
}

/** Cluster-presence settings beyond the defaults (tests scale them down; `prefix` keeps tests apart). */
export interface ClusterPresenceSettings extends Partial<Omit<ClusterPresenceOptions, 'logger' | 'onError'>> {
  /** When aborted, the instance stops beating and leaves its entries, as a killed instance would (tests). */
  abandon?: AbortSignal
}

/** Opens its own Redis connection (loaded only with `REDIS_URL`) and wraps `local`. */
export async function openClusterPresence(
  url: string,
  local: PresenceRegistry,
  settings: ClusterPresenceSettings,
  logger: Logger,
  onError?: (operation: string) => void,
): Promise<ClusterPresence> {
  const { Redis: IORedis } = await import('ioredis')
  // No offline queue: while Redis is away a read fails at once and answers from the local part.
  const redis = new IORedis(url, { maxRetriesPerRequest: 3, enableOfflineQueue: false })
  // Without a listener, ioredis reports connection errors as unhandled 'error' events.
  redis.on('error', (error: Error) => logger.warn({ err: error, role: 'presence' }, 'redis connection error'))
  const { abandon, ...rest } = settings
  const presence = createClusterPresence(redis, local, { prefix: `${REDIS_PREFIX}:presence`, ...rest, logger, onError })
  let abandoned = false
  abandon?.addEventListener('abort', () => {
    abandoned = true
    presence.abandon()
  })
  return {
    registry: presence.registry,
    abandon: presence.abandon,
    async close() {
      if (!abandoned) await presence.close()
      redis.disconnect()
    },
  }
}
