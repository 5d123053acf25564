/**
 * The `inbox/<userId>` document: one user's notifications, projected by the server from storage.
 * Root Y.Map `notifications`: notification id → Y.Map of {@link NotificationField} values.
 * The owner may set only `readAt`, `seenAt` and `archivedAt` of existing notifications.
 */
import * as Y from 'yjs'

/** Root Y.Map of the inbox document. */
export const INBOX_NOTIFICATIONS = 'notifications'

/** Fields of a notification Y.Map (all plain values; `actors` is a plain array). */
export const NotificationField = {
  id: 'id',
  kind: 'kind',
  priority: 'priority',
  subjectId: 'subjectId',
  threadId: 'threadId',
  commentId: 'commentId',
  actors: 'actors',
  activityCount: 'activityCount',
  preview: 'preview',
  createdAt: 'createdAt',
  notifiedAt: 'notifiedAt',
  readAt: 'readAt',
  seenAt: 'seenAt',
  archivedAt: 'archivedAt',
  url: 'url',
} as const

export interface InboxNotification {
  id: string
  kind: string
  priority: string
  subjectId: string
  threadId: string | null
  commentId: string | null
  actors: string[]
  activityCount: number
  preview: string
  createdAt: number
  notifiedAt: number
  readAt: number | null
  /** Set by the owner when the inbox was shown; the badge counts unseen ones. */
  seenAt: number | null
  archivedAt: number | null
  /** A link into the integrator's app (`PARLEY_APP_URL`); absent when none is configured. */
  url?: string
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** Unread: `readAt` null or earlier than `notifiedAt`. */
export function isUnreadNotification(n: Pick<InboxNotification, 'readAt' | 'notifiedAt'>): boolean {
  return n.readAt === null || n.readAt < n.notifiedAt
}

/** Unseen: `seenAt` null or earlier than `notifiedAt`. */
export function isUnseenNotification(n: Pick<InboxNotification, 'seenAt' | 'notifiedAt'>): boolean {
  return n.seenAt === null || n.seenAt < n.notifiedAt
}

export function readNotification(map: Y.Map<unknown>): InboxNotification | null {
  const id = str(map.get(NotificationField.id))
  const subjectId = str(map.get(NotificationField.subjectId))
  if (id === null || subjectId === null) return null
  const actors = map.get(NotificationField.actors)
  return {
    id,
    kind: str(map.get(NotificationField.kind)) ?? '',
    priority: str(map.get(NotificationField.priority)) ?? 'normal',
    subjectId,
    threadId: str(map.get(NotificationField.threadId)),
    commentId: str(map.get(NotificationField.commentId)),
    actors: Array.isArray(actors) ? actors.filter((a): a is string => typeof a === 'string') : [],
    activityCount: num(map.get(NotificationField.activityCount)) ?? 0,
    preview: str(map.get(NotificationField.preview)) ?? '',
    createdAt: num(map.get(NotificationField.createdAt)) ?? 0,
    notifiedAt: num(map.get(NotificationField.notifiedAt)) ?? 0,
    readAt: num(map.get(NotificationField.readAt)),
    seenAt: num(map.get(NotificationField.seenAt)),
    archivedAt: num(map.get(NotificationField.archivedAt)),
    ...(typeof map.get(NotificationField.url) === 'string' ? { url: map.get(NotificationField.url) as string } : {}),
  }
}

/** Every notification of an inbox document, newest first (`notifiedAt`, then id). */
export function readInbox(doc: Y.Doc): InboxNotification[] {
  const out: InboxNotification[] = []
  for (const map of doc.getMap(INBOX_NOTIFICATIONS).values()) {
    const n = map instanceof Y.Map ? readNotification(map as Y.Map<unknown>) : null
    if (n) out.push(n)
  }
  return out.sort((a, b) => b.notifiedAt - a.notifiedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}
