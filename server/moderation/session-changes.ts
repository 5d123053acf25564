/**
 * What changes open sessions when access changes (a membership or default role, a ban, its lift),
 * applied to this instance's connections and announced to the other instances (issue 21): each
 * applies the same change to its own (server/scaling/access-bus.ts). Without Redis nothing is
 * announced; a single instance holds every connection.
 */
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { z } from 'zod'
import type { AccessResolver } from '../../core/access/resolve.ts'
import type { Revocation } from '../../extensions/auth/revoke.ts'
import { createSessionRestorer, downgradeSessions, restoreSessions, type SessionRestorer } from './sessions.ts'

/** A change of who may do what on a document, for one user or (userId null) everyone. */
export const sessionChangeSchema = z.discriminatedUnion('kind', [
  /** Roles may have been lowered or removed: re-resolve, close what lost its role (`access_revoked`). */
  z.object({ kind: z.literal('access'), documentName: z.string(), userId: z.string().nullable() }),
  /** A ban: the user's sessions become read-only, until `until` (ms) or until lifted. */
  z.object({ kind: z.literal('ban'), documentName: z.string(), userId: z.string(), until: z.number().nullable() }),
  /** A lifted ban: the user's sessions get the role they resolve to now. */
  z.object({ kind: z.literal('unban'), documentName: z.string(), userId: z.string() }),
])
export type SessionChange = z.infer<typeof sessionChangeSchema>

export interface SessionChanges {
  /** Applies the change to this instance's connections and announces it; the connections it closed, downgraded or restored here. */
  apply(change: SessionChange): Promise<number>
  /** Applies a change another instance announced (not announced again). */
  applyLocal(change: SessionChange): Promise<number>
  /** Where changes are announced (set once the Redis bus exists). */
  announceWith(announce: (change: SessionChange) => Promise<void>): void
}

export interface SessionChangesOptions {
  hocuspocus: () => Hocuspocus
  access: AccessResolver
  revocation: Revocation
  logger: Logger
  now: () => number
}

export function createSessionChanges(options: SessionChangesOptions): SessionChanges {
  const { access, revocation, logger, now } = options
  let restorer: SessionRestorer | undefined
  const restorerOf = () => (restorer ??= createSessionRestorer(options.hocuspocus(), access, logger))
  let announce: ((change: SessionChange) => Promise<void>) | undefined

  async function applyLocal(change: SessionChange): Promise<number> {
    const { documentName } = change
    switch (change.kind) {
      case 'access':
        return revocation.recheck(documentName, change.userId ?? undefined)
      case 'ban': {
        const downgraded = downgradeSessions(options.hocuspocus(), documentName, change.userId)
        if (change.until === null) restorerOf().cancel(documentName, change.userId)
        else restorerOf().schedule(documentName, change.userId, Math.max(0, change.until - now()))
        return downgraded
      }
      case 'unban':
        restorerOf().cancel(documentName, change.userId)
        return restoreSessions(options.hocuspocus(), access, documentName, change.userId)
    }
  }

  return {
    applyLocal,
    async apply(change) {
      const changed = await applyLocal(change)
      // A lost announcement is caught by the bus's generation check; it never fails the caller.
      await announce?.(change).catch((error: unknown) =>
        logger.warn({ err: error, change }, 'an access change could not be announced to the other instances; they check on the next message'),
      )
      return changed
    },
    announceWith(next) {
      announce = next
    },
  }
}
