/**
 * Bans change open sessions at once (contract additions, "Moderation"): a banned user's
 * connections to the subject on this instance become read-only (role `read`, Hocuspocus's
 * `readOnly`) without being closed; lifting the ban gives them back the role they resolve to now.
 * Connections on other instances keep their role until they reconnect (revocation across
 * instances is not built yet), though every write they make is still judged by their context.
 */
import type { Hocuspocus } from '@hocuspocus/server'
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
