/**
 * Inbox resets across instances (issue 21; extensions/inbox/reset.ts). A reset replaces the stored
 * inbox with a fresh document; an instance that has the inbox loaded holds the old one, and the two
 * would merge into duplicates through Redis. So a reset runs under a Redis lock per inbox
 * (`parley:inbox-reset:<name>`, so two instances loading it at once take turns: the second finds it
 * already small), and only when no other instance is subscribed to the inbox's document channel
 * (`PUBSUB NUMSUB parley:<name>`: every instance that has it loaded is). When Redis cannot tell, the
 * inbox loads as stored and a later load resets it.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { InboxResetCoordinator } from '../../extensions/inbox/reset.ts'
import { REDIS_PREFIX } from './redis.ts'

/** How long a reset lock lives at most (a reset is one projection and one storage transaction). */
export const INBOX_RESET_LOCK_MS = 10_000
/** How long a load waits for another instance's reset of the same inbox before loading as stored. */
export const INBOX_RESET_WAIT_MS = 5_000
/** Between two tries to take the lock. */
const RETRY_MS = 50

/** Deletes the lock only while it is still ours. */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

export function createInboxResetLock(redis: Redis, prefix = REDIS_PREFIX): InboxResetCoordinator {
  return {
    async exclusive(documentName, reset) {
      const key = `${prefix}:inbox-reset:${documentName}`
      const token = randomUUID()
      const deadline = Date.now() + INBOX_RESET_WAIT_MS
      while ((await redis.set(key, token, 'PX', INBOX_RESET_LOCK_MS, 'NX')) !== 'OK') {
        if (Date.now() > deadline) return false
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS))
      }
      try {
        const answer = (await redis.pubsub('NUMSUB', `${prefix}:${documentName}`)) as Array<string | number>
        if (Number(answer[1] ?? 0) > 0) return false
        await reset()
        return true
      } finally {
        await redis.eval(RELEASE, 1, key, token)
      }
    },
  }
}
