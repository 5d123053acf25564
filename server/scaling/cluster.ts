/**
 * Everything several instances share through Redis (`REDIS_URL`, issue 21), opened together:
 * @hocuspocus/extension-redis (redis.ts), access changes announced to every instance
 * (access-bus.ts), inbox resets one instance at a time (inbox-reset-lock.ts) and presence read
 * across the instances (presence.ts).
 */
import type { Logger } from 'pino'
import type { PresenceRegistry } from '../../core/presence/registry.ts'
import type { Revocation } from '../../extensions/auth/revoke.ts'
import type { InboxResetCoordinator } from '../../extensions/inbox/reset.ts'
import type { SessionChanges } from '../moderation/session-changes.ts'
import { createAccessBus } from './access-bus.ts'
import { createInboxResetLock } from './inbox-reset-lock.ts'
import { openClusterPresence, type ClusterPresenceSettings } from './presence.ts'
import { createRedisScaling, type RedisScaling } from './redis.ts'

export interface ClusterOptions {
  url: string
  logger: Logger
  revocation: Pick<Revocation, 'missed'>
  /** Announced changes are applied here; this instance's changes are announced. */
  sessions: SessionChanges
  /** This instance's own presence, which the cluster registry wraps. */
  localPresence: PresenceRegistry
  presence: ClusterPresenceSettings
  hookError(hook: string): void
}

export interface Cluster {
  redis: RedisScaling
  /** Presence across the instances. */
  presence: PresenceRegistry
  inboxReset: InboxResetCoordinator
  close(): Promise<void>
}

export async function openCluster(options: ClusterOptions): Promise<Cluster> {
  const { url, logger, sessions } = options
  const redis = await createRedisScaling(url, logger)
  const accessBus = await createAccessBus({
    createClient: redis.createClient,
    logger,
    onChange: (change) => sessions.applyLocal(change),
    onMissed: () => options.revocation.missed(),
  })
  sessions.announceWith((change) => accessBus.announce(change))
  const inboxResetClient = redis.createClient('inbox-reset')
  const presence = await openClusterPresence(url, options.localPresence, options.presence, logger, (operation) =>
    options.hookError(`clusterPresence:${operation}`),
  )
  return {
    redis,
    presence: presence.registry,
    inboxReset: createInboxResetLock(inboxResetClient),
    async close() {
      await accessBus.close()
      inboxResetClient.disconnect()
      await presence.close()
      await redis.close()
    },
  }
}
