/** What REST route modules share: their dependencies, and the role check every user route makes. */
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { err, ErrorCode, ok, roleAtLeast, type ParleyErrorInfo, type Result, type Role } from '../../../protocol/index.ts'
import type { AccessResolver } from '../../../core/access/resolve.ts'
import type { SessionChanges } from '../../moderation/session-changes.ts'
import type { ParleyUser } from '../../../core/auth/claims.ts'
import type { ServerWriter } from '../../documents/write.ts'
import type { PresenceRegistry } from '../../../core/presence/registry.ts'
import type { Storage } from '../../../core/storage/types.ts'
import type { FeedService } from '../../feeds/index.ts'
import type { ParleyEvents } from '../../../core/events.ts'

export interface RestDependencies {
  storage: Storage
  hocuspocus: Hocuspocus
  access: AccessResolver
  /** Applies access changes to open sessions here and announces them to the other instances. */
  sessions: SessionChanges
  writer: ServerWriter
  /** Who is where (awareness) and who is online. */
  presence: PresenceRegistry
  logger: Logger
  /** Drains the notification outbox soon (after a REST mark). */
  outbox: { kick(): void }
  /** The digest window of users who did not choose one (`PARLEY_DIGEST_SECONDS`). */
  digestSeconds: number
  /** The link template of each notification (`PARLEY_APP_URL`). */
  appUrl?: string | undefined
  /** Feed fan-out and settings (issue 18). */
  feeds: FeedService
  /** Typed events (`comment.hidden`, `comment.unhidden`, `comment.reported`, …). */
  events: ParleyEvents
  /** Distinct reporters after which the subject's moderators are notified (`PARLEY_REPORT_THRESHOLD`). */
  reportThreshold: number
  /** The server's clock (bans expire by it); tests inject one. */
  now: () => number
  /** The key one-click unsubscribe tokens are verified with (server/email/key.ts); none: every token is refused. */
  unsubscribeKey?: Uint8Array | undefined
}

/** The user's role on the document when it is at least `need`; `forbidden` otherwise. */
export async function requireRole(access: AccessResolver, user: ParleyUser, documentName: string, need: Role): Promise<Result<Role, ParleyErrorInfo>> {
  const decision = await access.decide(user, documentName)
  if (!decision.ok) return decision
  if (!roleAtLeast(decision.value.role, need)) {
    return err({ code: ErrorCode.Forbidden, message: `your role on ${documentName} is ${decision.value.role}; this needs ${need}` })
  }
  return ok(decision.value.role)
}
