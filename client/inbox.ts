/**
 * `client.inbox()`: the user's notifications from `inbox/<userId>` on the client's socket, live:
 * a snapshot newest first, unread and unseen counts with change events, and the owner's marks
 * (read, all read, seen, archive) written into the document: they work offline and reach the
 * server (and the user's other devices) when the client is back online.
 */
import type * as Y from 'yjs'
import {
  INBOX_NOTIFICATIONS,
  inboxDocumentName,
  isUnreadNotification,
  isUnseenNotification,
  NotificationField,
  readInbox,
  type InboxNotification,
} from '../protocol/index.ts'
import { batchPerTick } from './batch.ts'
import { Emitter } from './events.ts'
import type { DocumentSession } from './session.ts'

export interface InboxCounts {
  /** Notifications whose `readAt` is null or earlier than `notifiedAt` (as `GET /api/v1/notifications/unread-count` counts them, archived ones included). */
  unread: number
  /** Notifications whose `seenAt` is null or earlier than `notifiedAt` (the badge). */
  unseen: number
}

export interface InboxEvents {
  /** The notifications changed (batched per tick): the new snapshot. */
  change: InboxNotification[]
  /** The counts changed. */
  counts: InboxCounts
}

type Mark = typeof NotificationField.readAt | typeof NotificationField.seenAt | typeof NotificationField.archivedAt

export class InboxHandle {
  readonly documentName: string
  private readonly session: DocumentSession
  private readonly onClose: () => void
  private readonly events = new Emitter<InboxEvents>()
  private cached: InboxNotification[] | null = null
  private lastCounts: InboxCounts = { unread: 0, unseen: 0 }
  private readonly batch = batchPerTick(() => {
    this.events.emit('change', this.all())
    const counts = this.counts()
    if (counts.unread !== this.lastCounts.unread || counts.unseen !== this.lastCounts.unseen) {
      this.lastCounts = counts
      this.events.emit('counts', counts)
    }
  })
  private readonly unsubscribe: Array<() => void>

  constructor(userId: string, session: DocumentSession, onClose: () => void) {
    this.documentName = inboxDocumentName(userId)
    this.session = session
    this.onClose = onClose
    this.unsubscribe = [
      session.events.on('change', () => {
        this.cached = null
        this.batch.schedule()
      }),
    ]
  }

  /** Resolves once local data is loaded and the first sync with the server completed. */
  whenSynced(): Promise<void> {
    return this.session.whenSynced()
  }

  /** Every notification the document holds (the latest ones), newest first; the same array until it changes. */
  private all(): InboxNotification[] {
    this.cached ??= readInbox(this.session.doc)
    return this.cached
  }

  /** Notifications not archived (or only archived ones), newest first. */
  notifications(options: { archived?: boolean } = {}): InboxNotification[] {
    const archived = options.archived ?? false
    return this.all().filter((n) => (n.archivedAt !== null) === archived)
  }

  /** Counted over the notifications the document holds (the latest ones), archived ones aside. */
  counts(): InboxCounts {
    const all = this.all().filter((n) => n.archivedAt === null)
    return { unread: all.filter(isUnreadNotification).length, unseen: all.filter(isUnseenNotification).length }
  }

  get unreadCount(): number {
    return this.counts().unread
  }

  get unseenCount(): number {
    return this.counts().unseen
  }

  on<K extends keyof InboxEvents>(event: K, listener: (value: InboxEvents[K]) => void): () => void {
    return this.events.on(event, listener)
  }

  /** Local marks the server has not acknowledged yet. */
  get sending(): number {
    return this.session.sending
  }

  markRead(ids: string | readonly string[]): void {
    this.mark(NotificationField.readAt, this.pick(ids), isUnreadNotification)
  }

  markAllRead(): void {
    this.mark(NotificationField.readAt, this.all(), isUnreadNotification)
  }

  /** Marks those (all unseen ones without ids) seen: the inbox was shown. */
  markSeen(ids?: string | readonly string[]): void {
    this.mark(NotificationField.seenAt, ids === undefined ? this.all() : this.pick(ids), isUnseenNotification)
  }

  archive(ids: string | readonly string[]): void {
    this.mark(NotificationField.archivedAt, this.pick(ids), (n) => n.archivedAt === null)
  }

  private pick(ids: string | readonly string[]): InboxNotification[] {
    const wanted = new Set(typeof ids === 'string' ? [ids] : ids)
    return this.all().filter((n) => wanted.has(n.id))
  }

  /** Sets `field` to now (never before the latest activity, so that a slow clock still marks) on those that need it. */
  private mark(field: Mark, notifications: readonly InboxNotification[], needs: (n: InboxNotification) => boolean): void {
    const doc = this.session.doc
    const root = doc.getMap(INBOX_NOTIFICATIONS)
    const now = Date.now()
    doc.transact(() => {
      for (const n of notifications) {
        if (!needs(n)) continue
        const map = root.get(n.id) as Y.Map<unknown> | undefined
        map?.set(field, field === NotificationField.archivedAt ? Math.max(now, n.createdAt) : Math.max(now, n.notifiedAt))
      }
    })
  }

  close(): void {
    this.batch.cancel()
    for (const off of this.unsubscribe) off()
    this.events.clear()
    this.onClose()
  }
}
