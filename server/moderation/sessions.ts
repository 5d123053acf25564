/**
 * Bans change open sessions at once (contract additions, "Moderation"): a banned user's
 * connections to the subject on this instance become read-only (role `read`, Hocuspocus's
 * `readOnly`) without being closed; lifting the ban, or its expiry (a timer on the instance that
 * set it), gives them back the role they resolve to then.
 * With several instances the ban and its lift are announced to the others, which apply them to
 * their own connections (session-changes.ts, server/scaling/access-bus.ts).
 */
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { roleRank, type Role } from '../../protocol/index.ts'
import type { AccessResolver } from '../../core/access/resolve.ts'
import type { ParleyContext } from '../../extensions/context.ts'

function sessionsOf(hocuspocus: Hocuspocus, documentName: string, userId: string) {
  const document = hocuspocus.documents.get(documentName)
  if (!document) return []
  return document.getConnections().filter((connection) => (connection.context as ParleyContext | undefined)?.user?.id === userId)
}

/** Lowers the user's open sessions to `read`; resolves with how many changed. */
export function downgradeSessions(hocuspocus: Hocuspocus, documentName: string, userId: string): number {
  let changed = 0
  for (const connection of sessionsOf(hocuspocus, documentName, userId)) {
    const context = connection.context as ParleyContext
    if (context.role !== undefined && roleRank(context.role) > roleRank('read')) {
      context.role = 'read'
      connection.readOnly = true
      changed++
    }
  }
  return changed
}

/** Gives the user's open sessions the role they resolve to now (after a ban is lifted); resolves with how many changed. */
export async function restoreSessions(hocuspocus: Hocuspocus, access: AccessResolver, documentName: string, userId: string): Promise<number> {
  let changed = 0
  for (const connection of sessionsOf(hocuspocus, documentName, userId)) {
    const context = connection.context as ParleyContext
    if (!context.user || context.role === undefined) continue
    const decision = await access.decide(context.user, documentName)
    if (!decision.ok || decision.degraded) continue
    const role: Role = decision.value.role
    if (roleRank(role) > roleRank(context.role)) {
      context.role = role
      connection.readOnly = decision.value.readOnly
      changed++
    }
  }
  return changed
}

/** Longest delay a timer can wait (setTimeout's limit); a ban expiring later is lifted for open sessions when they reconnect. */
export const MAX_RESTORE_DELAY_MS = 2 ** 31 - 1

export interface SessionRestorer {
  /** Restores the user's open sessions when the ban expires (replacing an earlier schedule for them). */
  schedule(documentName: string, userId: string, delayMs: number): void
  /** Forgets the schedule (the ban was lifted or replaced by one without expiry). */
  cancel(documentName: string, userId: string): void
}

/** Timers that give banned users' open sessions their role back at expiry, on this instance. */
export function createSessionRestorer(hocuspocus: Hocuspocus, access: AccessResolver, logger: Logger): SessionRestorer {
  const timers = new Map<string, NodeJS.Timeout>()
  const keyOf = (documentName: string, userId: string) => `${documentName}\n${userId}`
  const restorer: SessionRestorer = {
    schedule(documentName, userId, delayMs) {
      restorer.cancel(documentName, userId)
      if (delayMs > MAX_RESTORE_DELAY_MS) return
      const key = keyOf(documentName, userId)
      const timer = setTimeout(
        () => {
          timers.delete(key)
          restoreSessions(hocuspocus, access, documentName, userId).catch((error: unknown) =>
            logger.warn(
              { err: error, documentName, userId },
              'sessions could not be restored at the ban’s expiry; they get their role back when they reconnect',
            ),
          )
        },
        Math.max(0, delayMs),
      )
      timer.unref()
      timers.set(key, timer)
    },
    cancel(documentName, userId) {
      const key = keyOf(documentName, userId)
      clearTimeout(timers.get(key))
      timers.delete(key)
    },
  }
  return restorer
}
