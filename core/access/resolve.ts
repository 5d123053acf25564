/**
 * The role of user U on document D, from every source: the token's `access` claim (the presented
 * token for a connected user or a REST call, the remembered latest claim for a user who is not
 * connected), the subject's stored membership and default role, and dev mode. The pure rules
 * (patterns, inbox and feed documents) are core/auth/access.ts; this layer reads storage.
 *
 * Used by the auth extension, by REST routes, by revocation and by the user directory, and later
 * by notifications ("may this user read this subject?").
 */
import type { Logger } from 'pino'
import { err, ErrorCode, highestRole, ok, parseDocumentName, roleRank, type Role } from '../../protocol/index.ts'
import { decideAccess, subjectOfFeed, type AccessDecision } from '../auth/access.ts'
import type { ParleyUser } from '../auth/claims.ts'
import type { BanRecord, Storage, StoredRoles } from '../storage/types.ts'

/** Users whose latest token this instance remembers having stored, so that unchanged tokens cost no write. */
export const REMEMBERED_TOKENS_CACHE_SIZE = 10_000

/**
 * An unchanged token is stored again after this long, so that with several instances the stored
 * claim is never stale for longer (another instance may have stored a different token meanwhile).
 */
export const REMEMBERED_TOKEN_TTL_MS = 60_000

/** Whoever presents a claim: a connected user, or a user calling REST. */
export interface ClaimHolder {
  id: string
  access: Record<string, Role> | undefined
}

/**
 * A decision; `degraded` when storage did not answer and the decision rests on the token and dev
 * mode alone (stored roles only ever add to a role, so such a decision never grants too much).
 */
export type ResolvedAccess = AccessDecision & { degraded?: boolean }

export interface AccessResolver {
  /** The decision for a user presenting a token. A storage failure that matters is `storage_unavailable`. */
  decide(user: ClaimHolder, documentName: string): Promise<ResolvedAccess>
  /** The decision for a user who may not be connected: their remembered latest claim. Rejects when storage fails. */
  decideRemembered(userId: string, documentName: string): Promise<AccessDecision>
  /** The users (with their remembered claims) who may read the document. Rejects when storage fails. */
  filterReaders<T extends { id: string; access: Record<string, Role> | null }>(documentName: string, users: readonly T[]): Promise<T[]>
  /** Which of these users (by their remembered claims) may read the document: the batch form of `decideRemembered(…).ok`. Rejects when storage fails. */
  readersAmong(userIds: readonly string[], documentName: string): Promise<Set<string>>
  /**
   * Stores the token's claim, name and handle when they differ from what was last stored. The
   * handle is taken only when nobody holds it (the backend's directory, or an earlier claim);
   * a refused claim is logged.
   */
  remember(user: ParleyUser): Promise<void>
}

export interface AccessResolverOptions {
  storage: Storage
  devMode: boolean
  logger?: Logger | undefined
  /** The clock bans expire by (default `Date.now`). */
  now?: () => number
}

/** A ban (contract additions, "Moderation") caps the role at `read` until it expires. */
function capForBan(decision: AccessDecision, ban: BanRecord | null, now: number): AccessDecision {
  if (!decision.ok || ban === null || (ban.until !== null && ban.until <= now) || roleRank(decision.value.role) <= roleRank('read')) return decision
  return ok({ role: 'read', readOnly: true })
}

/** The subject id when the document is `comments/<id>`, or its feed `feed/subject:<id>`: the kinds with stored roles. */
function subjectOf(documentName: string): string | null {
  const parsed = parseDocumentName(documentName)
  if (parsed?.kind === 'feed') return subjectOfFeed(parsed.id)
  return parsed?.kind === 'comments' ? parsed.id : null
}

export function createAccessResolver(options: AccessResolverOptions): AccessResolver {
  const { storage, devMode, logger, now = Date.now } = options
  const remembered = new Map<string, { fingerprint: string; at: number }>()

  /** The one rule: every source combined by decideAccess. */
  const combine = (userId: string, documentName: string, access: Record<string, Role> | undefined, stored: StoredRoles | null) =>
    decideAccess({ userId, documentName, access, devMode, storedRole: stored ? highestRole([stored.defaultRole, stored.memberRole]) : null })

  const storedRoles = async (userId: string, documentName: string): Promise<StoredRoles | null> => {
    const subjectId = subjectOf(documentName)
    return subjectId === null ? null : storage.subjects.storedRoles(subjectId, userId)
  }

  const banOf = async (userId: string, documentName: string): Promise<BanRecord | null> => {
    const subjectId = subjectOf(documentName)
    return subjectId === null ? null : storage.moderation.ban(subjectId, userId)
  }

  return {
    async decide(user, documentName) {
      let stored: StoredRoles | null
      let ban: BanRecord | null
      try {
        ;[stored, ban] = await Promise.all([storedRoles(user.id, documentName), banOf(user.id, documentName)])
      } catch (error) {
        const fallback = combine(user.id, documentName, user.access, null)
        logger?.warn({ err: error, documentName, userId: user.id, granted: fallback.ok }, 'stored roles unreadable; deciding from the token alone')
        if (fallback.ok) return { ...fallback, degraded: true }
        if (fallback.error.code !== ErrorCode.Forbidden) return fallback
        return err({ code: ErrorCode.StorageUnavailable, message: 'storage does not answer; retry later' })
      }
      return capForBan(combine(user.id, documentName, user.access, stored), ban, now())
    },

    async decideRemembered(userId, documentName) {
      const [record, stored, ban] = await Promise.all([storage.users.get(userId), storedRoles(userId, documentName), banOf(userId, documentName)])
      return capForBan(combine(userId, documentName, record?.access ?? undefined, stored), ban, now())
    },

    async filterReaders(documentName, users) {
      const subjectId = subjectOf(documentName)
      const [subject, members] =
        subjectId === null
          ? [null, new Map<string, Role>()]
          : await Promise.all([
              storage.subjects.get(subjectId),
              storage.subjects.memberRoles(
                subjectId,
                users.map((u) => u.id),
              ),
            ])
      return users.filter((user) => {
        const stored = { defaultRole: subject?.defaultRole ?? null, memberRole: members.get(user.id) ?? null }
        return combine(user.id, documentName, user.access ?? undefined, stored).ok
      })
    },

    async readersAmong(userIds, documentName) {
      const records = await storage.users.getMany(userIds)
      const users = userIds.map((id) => ({ id, access: records.get(id)?.access ?? null }))
      // A ban only caps the role at `read` (capForBan): it never takes reading away.
      return new Set((await this.filterReaders(documentName, users)).map((user) => user.id))
    },

    async remember(user) {
      const fingerprint = JSON.stringify([user.name ?? null, user.handle ?? null, user.access ?? null])
      const now = Date.now()
      const last = remembered.get(user.id)
      if (last?.fingerprint === fingerprint && now - last.at < REMEMBERED_TOKEN_TTL_MS) return
      // Delete first, so that the entry moves to the end: the map's order is the eviction order.
      remembered.delete(user.id)
      remembered.set(user.id, { fingerprint, at: now })
      if (remembered.size > REMEMBERED_TOKENS_CACHE_SIZE) {
        const oldest = remembered.keys().next()
        if (!oldest.done) remembered.delete(oldest.value)
      }
      let result
      try {
        result = await storage.users.rememberToken(user.id, { name: user.name, handle: user.handle, access: user.access })
      } catch (error) {
        remembered.delete(user.id)
        throw error
      }
      if (result.handleRefused) {
        const holder = user.handle === undefined ? null : await storage.users.findByHandle(user.handle).catch(() => null)
        logger?.warn(
          { userId: user.id, handle: user.handle, holderId: holder?.id ?? null },
          'a token claims a handle another user holds (the backend’s directory or an earlier claim); the holder keeps it',
        )
      }
    },
  }
}
