/**
 * The `feed/<feedId>` document: an activity stream written by the server, read-only for clients.
 * Root Y.Array `items` of Y.Map with {@link FeedItemField} values, newest last (by `updatedAt`),
 * bounded in length (`PARLEY_FEED_LIMIT`); REST pages through older items.
 */
import * as Y from 'yjs'

/** Root Y.Array of the feed document. */
export const FEED_ITEMS = 'items'

/** How urgently an item reaches feed documents (batching windows: high ≤ 1 s, medium ≤ 5 s, low ≤ 15 s by default). */
export const FEED_PRIORITIES = ['high', 'medium', 'low'] as const
export type FeedPriority = (typeof FEED_PRIORITIES)[number]

/** Fields of a feed item Y.Map (all plain values; `actorIds` is a plain array). */
export const FeedItemField = {
  id: 'id',
  type: 'type',
  actorIds: 'actorIds',
  subjectId: 'subjectId',
  threadId: 'threadId',
  commentId: 'commentId',
  summary: 'summary',
  count: 'count',
  createdAt: 'createdAt',
  updatedAt: 'updatedAt',
} as const

/** A feed item as documents and REST carry it. */
export interface FeedItem {
  id: string
  /** `thread`, `comment`, `reaction`, or an integrator's own type. */
  type: string
  /** Latest first. */
  actorIds: string[]
  subjectId: string | null
  threadId: string | null
  commentId: string | null
  summary: string
  /** Activities folded into the item. */
  count: number
  createdAt: number
  updatedAt: number
}

/** The personal feed id of a user: `user:<userId>`; the subject feed id: `subject:<subjectId>`. */
export function subjectFeedId(subjectId: string): string {
  return `subject:${subjectId}`
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

export function readFeedItem(map: Y.Map<unknown>): FeedItem | null {
  const id = str(map.get(FeedItemField.id))
  if (id === null) return null
  const actors = map.get(FeedItemField.actorIds)
  return {
    id,
    type: str(map.get(FeedItemField.type)) ?? '',
    actorIds: Array.isArray(actors) ? actors.filter((a): a is string => typeof a === 'string') : [],
    subjectId: str(map.get(FeedItemField.subjectId)),
    threadId: str(map.get(FeedItemField.threadId)),
    commentId: str(map.get(FeedItemField.commentId)),
    summary: str(map.get(FeedItemField.summary)) ?? '',
    count: num(map.get(FeedItemField.count)) ?? 1,
    createdAt: num(map.get(FeedItemField.createdAt)) ?? 0,
    updatedAt: num(map.get(FeedItemField.updatedAt)) ?? 0,
  }
}

/** Every item of a feed document, in document order (newest last). */
export function readFeed(doc: Y.Doc): FeedItem[] {
  const out: FeedItem[] = []
  for (const entry of doc.getArray(FEED_ITEMS)) {
    const item = entry instanceof Y.Map ? readFeedItem(entry as Y.Map<unknown>) : null
    if (item) out.push(item)
  }
  return out
}
