/**
 * User-level presence: who is connected, where their awareness states are, and when each user
 * was last seen. Fed by the presence extension (connections, awareness states, every awareness
 * message); read by the REST presence routes and, in process, by notifications ("is this user
 * looking at the subject?").
 *
 * The interface is what a shared (Redis) registry for several instances would implement; reads
 * are asynchronous for that reason. {@link createMemoryRegistry} is the single-instance version.
 */
import { TYPING_STALE_MS, type PresenceState, type PresenceStatus, type Typing } from '../../protocol/index.ts'

/** Silence after which a connected user counts as gone (and their awareness states are removed). */
export const PRESENCE_TIMEOUT_MS = 30_000

export interface UserPresence {
  /** Has an open connection that was heard from within the presence timeout. */
  online: boolean
  /** Last time the server heard from the user (connection, awareness, disconnect); null if never. */
  lastSeenAt: number | null
}

export interface PresentUser {
  id: string
  name: string
  /** `active` if any of the user's clients (tabs, devices) is active. */
  status: PresenceStatus
  /** The user's most recent typing that is not stale, or null. */
  typing: Typing | null
  /** Awareness clients of the user in the document. */
  clients: number
}

export interface PresenceRegistry {
  connected(userId: string, documentName: string, socketId: string): void
  disconnected(userId: string, documentName: string, socketId: string): void
  /** The user sent something (an awareness message). */
  seen(userId: string): void
  /** An awareness client's state as the document's readers now see it. */
  setState(documentName: string, clientId: number, state: PresenceState): void
  removeState(documentName: string, clientId: number): void
  /** The document was unloaded: nobody is there any more. */
  clearDocument(documentName: string): void
  user(userId: string): Promise<UserPresence>
  /** Users with an awareness state in the document, by id. */
  document(documentName: string): Promise<PresentUser[]>
  /** Whether the user has an awareness state with status `active` in the document (push and email skip them then). */
  isPresent(userId: string, documentName: string): Promise<boolean>
}

interface ClientEntry {
  state: PresenceState
  /** When this instance first saw the state's current typing (`at` values are the sender's clock). */
  typingSeenAt: number
}

interface UserEntry {
  /**
   * `documentName\u0000socketId` of each open connection: the key itself while there is one (most
   * users have one; a Set per user would cost ~150 bytes each), a Set past it, null with none.
   */
  connections: string | Set<string> | null
  lastSeenAt: number
}

function withConnection(connections: UserEntry['connections'], key: string): UserEntry['connections'] {
  if (connections === null || connections === key) return key
  if (typeof connections === 'string') return new Set([connections, key])
  return connections.add(key)
}

function withoutConnection(connections: UserEntry['connections'], key: string): UserEntry['connections'] {
  if (connections === null || typeof connections === 'string') return connections === key ? null : connections
  connections.delete(key)
  return connections.size === 0 ? null : connections
}

export interface MemoryRegistryOptions {
  timeoutMs?: number
  typingStaleMs?: number
  now?: () => number
}

export function createMemoryRegistry(options: MemoryRegistryOptions = {}): PresenceRegistry {
  const timeoutMs = options.timeoutMs ?? PRESENCE_TIMEOUT_MS
  const typingStaleMs = options.typingStaleMs ?? TYPING_STALE_MS
  const now = options.now ?? Date.now
  const users = new Map<string, UserEntry>()
  const documents = new Map<string, Map<number, ClientEntry>>()

  const userEntry = (userId: string): UserEntry => {
    let entry = users.get(userId)
    if (!entry) {
      entry = { connections: null, lastSeenAt: now() }
      users.set(userId, entry)
    }
    return entry
  }
  const freshTyping = (entry: ClientEntry, at: number): Typing | null =>
    entry.state.typing && at - entry.typingSeenAt <= typingStaleMs ? entry.state.typing : null

  return {
    connected(userId, documentName, socketId) {
      const entry = userEntry(userId)
      entry.connections = withConnection(entry.connections, `${documentName}\u0000${socketId}`)
      entry.lastSeenAt = now()
    },
    disconnected(userId, documentName, socketId) {
      const entry = userEntry(userId)
      entry.connections = withoutConnection(entry.connections, `${documentName}\u0000${socketId}`)
      entry.lastSeenAt = now()
    },
    seen(userId) {
      userEntry(userId).lastSeenAt = now()
    },
    setState(documentName, clientId, state) {
      let clients = documents.get(documentName)
      if (!clients) {
        clients = new Map()
        documents.set(documentName, clients)
      }
      const previous = clients.get(clientId)
      const sameTyping =
        previous?.state.typing && state.typing && previous.state.typing.at === state.typing.at && previous.state.typing.threadId === state.typing.threadId
      clients.set(clientId, { state, typingSeenAt: sameTyping ? previous.typingSeenAt : now() })
    },
    removeState(documentName, clientId) {
      const clients = documents.get(documentName)
      clients?.delete(clientId)
      if (clients?.size === 0) documents.delete(documentName)
    },
    clearDocument(documentName) {
      documents.delete(documentName)
    },
    async user(userId) {
      const entry = users.get(userId)
      if (!entry) return { online: false, lastSeenAt: null }
      return { online: entry.connections !== null && now() - entry.lastSeenAt <= timeoutMs, lastSeenAt: entry.lastSeenAt }
    },
    async document(documentName) {
      const at = now()
      const byUser = new Map<string, PresentUser>()
      for (const entry of documents.get(documentName)?.values() ?? []) {
        const { user, status } = entry.state
        const typing = freshTyping(entry, at)
        const present = byUser.get(user.id)
        if (!present) {
          byUser.set(user.id, { id: user.id, name: user.name, status, typing, clients: 1 })
          continue
        }
        present.clients++
        if (status === 'active') present.status = 'active'
        if (typing && (!present.typing || typing.at > present.typing.at)) present.typing = typing
      }
      return [...byUser.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    },
    async isPresent(userId, documentName) {
      for (const entry of documents.get(documentName)?.values() ?? []) if (entry.state.user.id === userId && entry.state.status === 'active') return true
      return false
    },
  }
}
