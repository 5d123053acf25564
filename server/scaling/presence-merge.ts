/**
 * The entries instances publish for cluster presence (server/scaling/presence.ts), how they are
 * read back, and how the awareness clients of several instances merge into one answer.
 *
 * Entries list awareness clients by id, not users: with extension-redis an instance also holds the
 * states relayed from the others for the documents it has loaded, so the same client may be
 * listed by several instances. Each client counts once; this instance's own copy wins.
 */
import { z } from 'zod'
import { PRESENCE_STATUSES } from '../../protocol/index.ts'
import type { PresentUser } from '../../core/presence/registry.ts'

const clientSchema = z.object({
  clientId: z.number().int(),
  id: z.string(),
  name: z.string(),
  status: z.enum(PRESENCE_STATUSES),
  /** Published only while fresh on the publishing instance. */
  typing: z.object({ threadId: z.string().nullable(), at: z.number() }).nullable(),
})

const entrySchema = z.object({
  expiresAt: z.number(),
  clients: z.array(clientSchema).optional(),
  online: z.boolean().optional(),
})

export type RemoteClient = z.infer<typeof clientSchema>
export type RemoteEntry = z.infer<typeof entrySchema>

/** An instance's entry, or undefined if it is not one (it is then pruned like an expired one). */
export function parseEntry(value: string): RemoteEntry | undefined {
  try {
    const parsed = entrySchema.safeParse(JSON.parse(value))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

/** Other instances' clients not already among `localClientIds`, each once. */
export function remoteClients(entries: RemoteEntry[], localClientIds: ReadonlySet<number>): RemoteClient[] {
  const seen = new Set(localClientIds)
  const clients: RemoteClient[] = []
  for (const client of entries.flatMap((entry) => entry.clients ?? [])) {
    if (seen.has(client.clientId)) continue
    seen.add(client.clientId)
    clients.push(client)
  }
  return clients
}

/**
 * Adds remote clients to this instance's present users, as a single instance merges a user's
 * clients: `active` if any is, the latest typing, clients counted; sorted by id.
 */
export function mergeRemote(local: PresentUser[], clients: RemoteClient[]): PresentUser[] {
  const byUser = new Map(local.map((user) => [user.id, { ...user }]))
  for (const client of clients) {
    const present = byUser.get(client.id)
    if (!present) {
      byUser.set(client.id, { id: client.id, name: client.name, status: client.status, typing: client.typing, clients: 1 })
      continue
    }
    present.clients++
    if (client.status === 'active') present.status = 'active'
    if (client.typing && (!present.typing || client.typing.at > present.typing.at)) present.typing = client.typing
  }
  return [...byUser.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}
