/**
 * The Parley client SDK: `createParleyClient({ url, token })` over one multiplexed socket.
 */
import { decodeJwt } from 'jose'
import { ErrorCode, ParleyError, feedDocumentName, inboxDocumentName, isValidId } from '../protocol/index.ts'
import { CommentsHandle } from './comments.ts'
import { InboxHandle } from './inbox.ts'
import { httpBaseOf } from './http.ts'
import { search, type SearchOptions, type SearchPage } from './search.ts'
import { FeedHandle } from './feed.ts'
import { createRestCaller } from './rest.ts'
import { DocumentSession } from './session.ts'
import { openConnection, RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS, type ConnectionStatus, type ReconnectOptions } from './connection.ts'
import { Emitter } from './events.ts'
import { PresenceHandle, type PresenceOptions } from './presence.ts'
import type { SessionEvents, TokenSource } from './session.ts'
import { SubjectSessions } from './subjects.ts'
import type { LocalStore } from './stores/types.ts'

export type { ConnectionStatus } from './connection.ts'
export type { LocalStore } from './stores/types.ts'
export { CommentsHandle } from './comments.ts'
export { InboxHandle, type InboxCounts, type InboxEvents } from './inbox.ts'
export { FeedHandle, FEED_PAGE_SIZE, type FeedEvents } from './feed.ts'
export { PresenceHandle, IDLE_AFTER_MS, TYPING_CLEAR_MS, TYPING_REFRESH_MS, type PresenceOptions, type PresentUser } from './presence.ts'
export { MemoryStore } from './stores/memory.ts'
export { countUnacknowledged } from './stores/acknowledged.ts'
export type { SearchOptions, SearchPage, SearchResult } from './search.ts'
export { IndexedDbStore } from './stores/indexeddb.ts'

export interface ParleyClientOptions {
  /** The server's WebSocket URL, e.g. `ws://127.0.0.1:1234`. */
  url: string
  /** A JWT, or a function returning one; the function is called again when the token expires. */
  token: TokenSource
  /** The token's `sub`; read from the token when omitted. */
  userId?: string
  /** The name this client shows for its own user; others always see the token's `name` claim (or the user id), which the server puts in awareness. Defaults to that claim. */
  userName?: string
  /** Where documents are kept on the device for offline use; none by default. */
  store?: LocalStore
  reconnect?: Partial<ReconnectOptions>
  /** Makes ids for new threads and comments (default `crypto.randomUUID`); must match the id pattern. */
  newId?: () => string
  /** A WebSocket implementation for runtimes without a global one. */
  WebSocketPolyfill?: unknown
  /** The server's HTTP URL for REST calls (search, `feed.loadMore()`, hide, unhide, report); derived from `url` when omitted (`ws` → `http`). */
  httpUrl?: string
}

export interface ClientEvents {
  status: ConnectionStatus
  /** Local changes not yet acknowledged, over all open subjects. */
  sending: number
  error: SessionEvents['error']
}

export interface ClientDiagnostics {
  openSubjects: number
  /** Documents attached to the shared socket. */
  attachedDocuments: number
  /** Listeners registered on the shared socket. */
  socketListeners: number
  /** Listeners registered on the client. */
  clientListeners: number
}

export interface ParleyClient {
  readonly userId: string
  readonly status: ConnectionStatus
  readonly sending: number
  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void
  /** The comments of one subject; the same handle until it is closed. */
  comments(subjectId: string): CommentsHandle
  /** The user's notifications (`inbox/<userId>`), live, with counts and marks; the same handle until it is closed. */
  inbox(): InboxHandle
  /** A feed (`feed/<feedId>`, e.g. `user:<userId>`), live and read-only, with `loadMore()` over REST; the same handle until it is closed. */
  feed(feedId: string): FeedHandle
  /** Who is here and typing in one subject, and this user's presence there; the same handle until it is closed. */
  presence(subjectId: string, options?: PresenceOptions): PresenceHandle
  /** Searches the comments of the subjects the user may read (`GET /api/v1/search`); rejects with a `ParleyError`. */
  search(query: string, options?: SearchOptions): Promise<SearchPage>
  /** Subjects open now. */
  readonly openSubjects: number
  /** Counts of what the client holds, for leak checks and debugging. */
  diagnostics(): ClientDiagnostics
  /** Goes offline on purpose: local edits continue and sync after `connect()`. */
  disconnect(): void
  connect(): void
  /** Closes every subject and the socket. */
  close(): Promise<void>
}

async function resolveUser(options: ParleyClientOptions): Promise<{ id: string; name: string }> {
  if (options.userId) return { id: options.userId, name: options.userName ?? options.userId }
  const token = typeof options.token === 'function' ? await options.token() : options.token
  const claims = decodeJwt(token)
  const sub = claims.sub
  if (!sub) throw new ParleyError(ErrorCode.TokenInvalid, 'the token has no sub claim')
  return { id: sub, name: options.userName ?? (typeof claims.name === 'string' ? claims.name : sub) }
}

export async function createParleyClient(options: ParleyClientOptions): Promise<ParleyClient> {
  const user = await resolveUser(options)
  const userId = user.id
  const reconnect: ReconnectOptions = { baseDelayMs: RECONNECT_BASE_DELAY_MS, maxDelayMs: RECONNECT_MAX_DELAY_MS, ...options.reconnect }
  const connection = openConnection(options.url, reconnect, options.WebSocketPolyfill)
  const rest = createRestCaller(options.httpUrl ?? httpBaseOf(options.url), options.token)
  const events = new Emitter<ClientEvents>()
  const sessions = new SubjectSessions({
    socket: connection.socket,
    token: options.token,
    store: options.store,
    onSending: (count) => events.emit('sending', count),
    onError: (error) => events.emit('error', error),
  })
  const handles = new Map<string, CommentsHandle>()
  const presences = new Map<string, PresenceHandle>()
  let inbox: { handle: InboxHandle; session: DocumentSession; off: Array<() => void> } | undefined
  const feeds = new Map<string, FeedHandle>()
  const inboxSending = () => inbox?.session.sending ?? 0
  const sending = () => sessions.sending + inboxSending()
  const offStatus = connection.onStatus((status) => events.emit('status', status))

  return {
    userId,
    get status() {
      return connection.status
    },
    get sending() {
      return sending()
    },
    get openSubjects() {
      return sessions.size
    },
    diagnostics: () => ({
      openSubjects: sessions.size,
      attachedDocuments: connection.socket.configuration.providerMap.size,
      socketListeners: Object.values(connection.socket.callbacks).reduce((sum, list) => sum + list.length, 0),
      clientListeners: events.listenerCount,
    }),
    on: (event, listener) => events.on(event, listener),
    disconnect: () => connection.setOnline(false),
    connect: () => connection.setOnline(true),
    search: (query, searchOptions) => search(options.httpUrl ?? httpBaseOf(options.url), options.token, query, searchOptions),
    comments(subjectId) {
      if (!isValidId(subjectId)) throw new ParleyError(ErrorCode.InvalidRequest, `subject id "${subjectId}" is not valid`)
      const open = handles.get(subjectId)
      if (open) return open
      const handle: CommentsHandle = new CommentsHandle(subjectId, sessions.acquire(subjectId), { userId, newId: options.newId, rest }, () => {
        // Closing twice releases once.
        if (handles.get(subjectId) !== handle) return
        handles.delete(subjectId)
        sessions.release(subjectId)
      })
      handles.set(subjectId, handle)
      return handle
    },
    inbox() {
      if (inbox) return inbox.handle
      const session = new DocumentSession({ documentName: inboxDocumentName(userId), socket: connection.socket, token: options.token, store: options.store })
      const handle: InboxHandle = new InboxHandle(userId, session, () => {
        if (inbox?.handle !== handle) return
        for (const off of inbox.off) off()
        inbox = undefined
        session.close()
        events.emit('sending', sending())
      })
      inbox = {
        handle,
        session,
        off: [session.events.on('sending', () => events.emit('sending', sending())), session.events.on('error', (e) => events.emit('error', e))],
      }
      return handle
    },
    feed(feedId) {
      if (!isValidId(feedId)) throw new ParleyError(ErrorCode.InvalidRequest, `feed id "${feedId}" is not valid`)
      const open = feeds.get(feedId)
      if (open) return open
      const session = new DocumentSession({ documentName: feedDocumentName(feedId), socket: connection.socket, token: options.token, store: options.store })
      const off = session.events.on('error', (e) => events.emit('error', e))
      const rest = { baseUrl: options.httpUrl ?? httpBaseOf(options.url), token: options.token }
      const handle: FeedHandle = new FeedHandle(feedId, session, rest, () => {
        if (feeds.get(feedId) !== handle) return
        feeds.delete(feedId)
        off()
        session.close()
      })
      feeds.set(feedId, handle)
      return handle
    },
    presence(subjectId, presenceOptions = {}) {
      if (!isValidId(subjectId)) throw new ParleyError(ErrorCode.InvalidRequest, `subject id "${subjectId}" is not valid`)
      const open = presences.get(subjectId)
      if (open) return open
      const handle = new PresenceHandle(subjectId, sessions.acquire(subjectId), user, presenceOptions, () => {
        presences.delete(subjectId)
        sessions.release(subjectId)
      })
      presences.set(subjectId, handle)
      return handle
    },
    async close() {
      for (const handle of [...presences.values(), ...handles.values()]) handle.close()
      inbox?.handle.close()
      for (const handle of [...feeds.values()]) handle.close()
      offStatus()
      connection.destroy()
      events.clear()
      await options.store?.close()
    },
  }
}
