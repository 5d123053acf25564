/**
 * The connection context: what the auth extension puts into Hocuspocus's `context` for an
 * authenticated connection, and the one reader every hook uses. Hooks take their payloads typed
 * with {@link ParleyContext} (`beforeSyncPayload<ParleyContext>`, …): Hocuspocus hands every hook
 * the context that `onAuthenticate` returned, merged into `{}`.
 */
import { isTransactionOrigin } from '@hocuspocus/server'
import type { ParleyUser } from '../core/auth/claims.ts'
import type { Role } from '../protocol/index.ts'

/** What every later hook finds in `context` for an authenticated connection. */
export interface ConnectionContext {
  user: ParleyUser
  role: Role
  /** `Revocation.generation` when the role was decided. */
  accessGeneration: number
  /** `Revocation.epoch` when the role was last decided (moved on: resolved again before the next message). */
  accessEpoch?: number
}

/**
 * Hocuspocus's `context` as Parley's hooks see it: empty before authentication, a
 * {@link ConnectionContext} after; the inbox projector marks its own direct connections.
 */
export type ParleyContext = Partial<ConnectionContext> & { parleyProjector?: true }

/** The authenticated connection's context, or undefined (not authenticated yet, or a direct connection). */
export function connectionOf(context: ParleyContext | undefined): ConnectionContext | undefined {
  if (!context?.user || !context.role || context.accessGeneration === undefined) return undefined
  return { user: context.user, role: context.role, accessGeneration: context.accessGeneration }
}

/** The authenticated user's id, or undefined. */
export function userIdOf(context: ParleyContext | undefined): string | undefined {
  return context?.user?.id
}

/**
 * The user behind a transaction: a client's update (its connection's context) or a server-side
 * write (a direct connection opened with a user's context, as REST writes are); undefined for
 * relayed, loaded and anonymous server writes.
 */
export function userIdOfOrigin(origin: unknown): string | undefined {
  if (!isTransactionOrigin(origin)) return undefined
  if (origin.source === 'connection') return userIdOf(origin.connection.context as ParleyContext | undefined)
  if (origin.source === 'local') return userIdOf(origin.context as ParleyContext | undefined)
  return undefined
}

/** The fields every log line about a document or connection carries. */
export interface LogFields {
  documentName?: string
  userId?: string
  socketId?: string
}

/** A Hocuspocus hook payload, as far as log lines read it. */
export interface HookPayloadFields {
  documentName?: unknown
  socketId?: unknown
  context?: ParleyContext
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * `documentName`, `userId` (the authenticated user) and `socketId` from any Hocuspocus hook
 * payload, leaving out whichever it does not have.
 */
export function logFields(payload: HookPayloadFields | null | undefined): LogFields {
  const fields: LogFields = {}
  const documentName = nonEmpty(payload?.documentName)
  if (documentName) fields.documentName = documentName
  const userId = userIdOf(payload?.context)
  if (userId) fields.userId = userId
  const socketId = nonEmpty(payload?.socketId)
  if (socketId) fields.socketId = socketId
  return fields
}
