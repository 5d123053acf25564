/**
 * Which role a user has on a document, as a pure function of its sources: the token's `access`
 * claim, the subject's stored role (membership or default role, read by core/access/resolve.ts),
 * dev mode, and the contract's always-granted and never-granted documents.
 */
import {
  echoedName,
  err,
  ErrorCode,
  highestRole,
  ok,
  parseDocumentName,
  userFeedId,
  type ParleyErrorInfo,
  type Result,
  type Role,
} from '../../protocol/index.ts'

/** The outcome for one (user, document): a role and whether the connection may write at all. */
export type AccessDecision = Result<{ role: Role; readOnly: boolean }, ParleyErrorInfo>

export interface AccessInput {
  userId: string
  documentName: string
  access: Record<string, Role> | undefined
  devMode: boolean
  /** For `comments/<id>`: the highest of the stored membership and the subject's default role. */
  storedRole?: Role | null | undefined
}

/** The role an `access` claim gives on a document: exact names, and prefixes ending in `*`. */
export function roleFromAccessClaim(access: Record<string, Role> | undefined, documentName: string): Role | null {
  if (!access) return null
  const matching: Role[] = []
  for (const [pattern, role] of Object.entries(access)) {
    const matches = pattern.endsWith('*') ? documentName.startsWith(pattern.slice(0, -1)) : pattern === documentName
    if (matches) matching.push(role)
  }
  return highestRole(matching)
}

function forbidden(message: string): AccessDecision {
  return err({ code: ErrorCode.Forbidden, message })
}

/** The subject of a subject feed id (`subject:<subjectId>`), or null. */
export function subjectOfFeed(feedId: string): string | null {
  return feedId.startsWith('subject:') ? feedId.slice('subject:'.length) : null
}

export function decideAccess(input: AccessInput): AccessDecision {
  const parsed = parseDocumentName(input.documentName)
  if (!parsed) {
    return err({
      code: ErrorCode.InvalidDocumentName,
      message: `"${echoedName(input.documentName)}" is not comments/<id>, inbox/<id> or feed/<id>`,
    })
  }
  switch (parsed.kind) {
    case 'inbox':
      // inbox/<id> opens only for <id>, whatever else says otherwise. The connection is writable:
      // the write guard lets the owner set only readAt and archivedAt of existing notifications.
      return parsed.id === input.userId ? ok({ role: 'read', readOnly: false }) : forbidden(`inbox/${parsed.id} belongs to another user`)
    case 'feed': {
      // Feeds are written by the server only: read-only for every client.
      if (parsed.id === userFeedId(input.userId)) return ok({ role: 'read', readOnly: true })
      // `feed/subject:<id>` is read by whoever may read the subject (its claim and stored roles count too).
      const subjectId = subjectOfFeed(parsed.id)
      const subjectRole = subjectId === null ? null : highestRole([roleFromAccessClaim(input.access, `comments/${subjectId}`), input.storedRole ?? null])
      // Any role (from the claim, or dev mode's `comment`) reads a feed; none writes one.
      const role = highestRole([roleFromAccessClaim(input.access, input.documentName), subjectRole, input.devMode ? 'comment' : null])
      return role ? ok({ role: 'read', readOnly: true }) : forbidden(`no access to ${input.documentName}`)
    }
    case 'comments': {
      const role = highestRole([roleFromAccessClaim(input.access, input.documentName), input.storedRole, input.devMode ? 'comment' : null])
      if (!role) return forbidden(`no access to ${input.documentName}`)
      return ok({ role, readOnly: role === 'read' })
    }
  }
}
