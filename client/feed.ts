/**
 * `client.feed(feedId)`: a feed's items from `feed/<feedId>` on the client's socket, live (the
 * server writes the document; the client only reads it, and with a local store it is readable
 * offline), plus `loadMore()`, which pages through older items over REST
 * (`GET /api/v1/feeds/:feedId/items`). `items()` merges both, newest first, each id once.
 */
import { ErrorCode, feedDocumentName, ParleyError, readFeed, type FeedItem } from '../protocol/index.ts'
import { batchPerTick } from './batch.ts'
import { Emitter } from './events.ts'
import type { DocumentSession, TokenSource } from './session.ts'

/** Items one `loadMore()` asks for unless told otherwise. */
export const FEED_PAGE_SIZE = 50

export interface FeedEvents {
  /** The items changed (live, or loaded): the new snapshot, newest first. */
  change: FeedItem[]
}

export interface FeedRest {
  /** `http(s)://host:port` of the server. */
  baseUrl: string
  token: TokenSource
}

function newestFirst(a: FeedItem, b: FeedItem): number {
  return b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
}

export class FeedHandle {
  readonly feedId: string
  readonly documentName: string
  private readonly session: DocumentSession
  private readonly rest: FeedRest
  private readonly onClose: () => void
  private readonly events = new Emitter<FeedEvents>()
  private readonly older = new Map<string, FeedItem>()
  private cursor: string | null = null
  private exhausted = false
  private cached: FeedItem[] | null = null
  private readonly batch = batchPerTick(() => this.events.emit('change', this.items()))
  private readonly unsubscribe: Array<() => void>

  constructor(feedId: string, session: DocumentSession, rest: FeedRest, onClose: () => void) {
    this.feedId = feedId
    this.documentName = feedDocumentName(feedId)
    this.session = session
    this.rest = rest
    this.onClose = onClose
    this.unsubscribe = [session.events.on('change', () => this.changed())]
  }

  private changed(): void {
    this.cached = null
    this.batch.schedule()
  }

  /** Resolves once local data is loaded and the first sync with the server completed. */
  whenSynced(): Promise<void> {
    return this.session.whenSynced()
  }

  /** The document's items and those loaded over REST, newest first; the same array until it changes. */
  items(): FeedItem[] {
    if (this.cached) return this.cached
    const byId = new Map(this.older)
    // The document is the live view: its version of an item wins.
    for (const item of readFeed(this.session.doc)) byId.set(item.id, item)
    this.cached = [...byId.values()].sort(newestFirst)
    return this.cached
  }

  /** False once `loadMore()` reached the oldest item. */
  get hasMore(): boolean {
    return !this.exhausted
  }

  /** Loads the next page of older items over REST; resolves with how many items it added. */
  async loadMore(limit: number = FEED_PAGE_SIZE): Promise<number> {
    if (this.exhausted) return 0
    const token = typeof this.rest.token === 'function' ? await this.rest.token() : this.rest.token
    const query = new URLSearchParams({ limit: String(limit) })
    if (this.cursor !== null) query.set('cursor', this.cursor)
    const url = `${this.rest.baseUrl}/api/v1/feeds/${encodeURIComponent(this.feedId)}/items?${query.toString()}`
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    const body = (await response.json()) as { items?: FeedItem[]; nextCursor?: string | null; error?: { code: string; message: string } }
    if (!response.ok || !body.items) {
      throw new ParleyError(
        body.error?.code === ErrorCode.Forbidden ? ErrorCode.Forbidden : ErrorCode.InvalidRequest,
        body.error?.message ?? `HTTP ${response.status}`,
      )
    }
    const before = this.items().length
    for (const item of body.items) if (!this.older.has(item.id)) this.older.set(item.id, item)
    this.cursor = body.nextCursor ?? null
    this.exhausted = this.cursor === null
    this.changed()
    return this.items().length - before
  }

  on<K extends keyof FeedEvents>(event: K, listener: (value: FeedEvents[K]) => void): () => void {
    return this.events.on(event, listener)
  }

  close(): void {
    this.batch.cancel()
    for (const off of this.unsubscribe) off()
    this.events.clear()
    this.onClose()
  }
}
