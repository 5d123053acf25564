/**
 * Revocation: after a role was removed or lowered (membership, default role), the roles of the
 * users connected to the document on this instance are resolved again; a connection whose role is
 * now lower than the one it was opened with gets the `parley.error` message `access_revoked` and
 * is closed. Reconnecting then goes through authentication, which refuses or grants the new role.
 *
 * With several instances, the access bus (server/scaling/access-bus.ts) calls the same
 * {@link Revocation.recheck} with the document and user another instance announced. When it finds
 * that it missed an announcement, {@link Revocation.missed} moves the {@link Revocation.epoch}: every
 * connection decided in an earlier epoch is checked again on its next message (auth extension).
 */
import type { Connection, Document } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { ErrorCode, roleRank, SessionCloseCode, type Role } from '../../protocol/index.ts'
import { connectionOf, type ParleyContext } from '../context.ts'
import { sendParleyError } from '../errors.ts'
import type { AccessResolver, ClaimHolder } from '../../core/access/resolve.ts'

/** Close event of a revoked document connection; the provider sees `reason` in its close event. */
export const ACCESS_REVOKED_CLOSE = { code: SessionCloseCode.AccessRevoked, reason: ErrorCode.AccessRevoked } as const

export interface Revocation {
  /**
   * Resolves again the role of every connection to `documentName` on this instance (of `userId`
   * only, when given) and closes those whose role was removed or lowered. Resolves with the
   * number of connections closed.
   */
  recheck(documentName: string, userId?: string): Promise<number>
  /** The same for one connection; true when it was closed. */
  recheckConnection(connection: Connection, documentName: string): Promise<boolean>
  /**
   * Grows with every recheck. Authentication notes it before deciding; if it moved by the time
   * the connection is established, a revocation may have missed the connection, which is then
   * checked again.
   */
  readonly generation: number
  /**
   * Moves when this instance may have missed an access change made on another instance; a
   * connection decided in an earlier epoch is resolved again before its next message is handled.
   */
  readonly epoch: number
  /** Another instance changed access and this instance did not hear what (a lost announcement). */
  missed(): void
}

/** What authentication put into the context: the user (with the presented claim) and the role. */
function holderOf(context: ParleyContext | undefined): { user: ClaimHolder; role: Role } | null {
  const connection = connectionOf(context)
  return connection ? { user: connection.user, role: connection.role } : null
}

export interface RevocationOptions {
  /** The loaded document of that name on this instance (`hocuspocus.documents.get`). */
  document: (documentName: string) => Document | undefined
  access: AccessResolver
  logger: Logger
}

export function createRevocation(options: RevocationOptions): Revocation {
  const { access, logger } = options
  let generation = 0
  let epoch = 0

  async function recheckConnection(connection: Connection, documentName: string): Promise<boolean> {
    const holder = holderOf(connection.context)
    if (!holder) return false
    const decision = await access.decide(holder.user, documentName)
    if (decision.ok) {
      // Unsure (storage did not answer): leave the connection; never close on a guess.
      if (decision.degraded || roleRank(decision.value.role) >= roleRank(holder.role)) return false
    } else if (decision.error.code === ErrorCode.StorageUnavailable) {
      return false
    }
    const message = decision.ok
      ? `your role on ${documentName} is now ${decision.value.role}; reconnect to continue with it`
      : `your access to ${documentName} was revoked`
    sendParleyError(connection, documentName, { code: ErrorCode.AccessRevoked, message })
    connection.close({ ...ACCESS_REVOKED_CLOSE })
    logger.info({ documentName, userId: holder.user.id, role: decision.ok ? decision.value.role : null }, 'connection closed: access revoked')
    return true
  }

  return {
    get generation() {
      return generation
    },
    get epoch() {
      return epoch
    },
    missed() {
      epoch++
    },
    recheckConnection,
    async recheck(documentName, userId) {
      generation++
      const document = options.document(documentName)
      if (!document) return 0
      const targets = document.getConnections().filter((connection) => userId === undefined || holderOf(connection.context)?.user.id === userId)
      const closed = await Promise.all(targets.map((connection) => recheckConnection(connection, documentName)))
      return closed.filter(Boolean).length
    },
  }
}
