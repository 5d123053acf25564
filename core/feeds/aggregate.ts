/**
 * Feed activities and how they fold into feed items. An activity (a thread started, a comment, a
 * reaction, an integrator's item) folds into the newest item of the same `type` on the same
 * subject while it is inside the aggregation window (measured from the item's first activity):
 * `actorIds` latest first, `count` grows, `updatedAt` moves, the summary is written again.
 * Integrator items keep their own id and summary and never fold.
 */
import type { FeedItem, FeedPriority } from '../../protocol/index.ts'

/** Default aggregation window: activity of one type on one subject within it folds into one item. */
export const DEFAULT_AGGREGATION_WINDOW_MS = 15 * 60_000

/** Most actor ids an item keeps (latest first); the summary counts the others among them. */
export const MAX_ITEM_ACTORS = 50

/** What happened, once: recorded with its id as idempotency key, then fanned out to `feeds`. */
export interface FeedActivity {
  /** Idempotency key: an activity with this id is recorded (and fanned out) at most once. */
  id: string
  /** `add` folds or creates an item; `retract` takes back the item whose only comment was deleted. */
  kind: 'add' | 'retract'
  /** The id of the item it creates when it folds into none. */
  itemId: string
  type: string
  subjectId: string | null
  threadId: string | null
  commentId: string | null
  /** Latest first. */
  actorIds: string[]
  /** The latest actor's display name (the summary's first words); null: the id. */
  actorName: string | null
  /** Given by the integrator: kept as is, and the item never folds. */
  summary: string | null
  priority: FeedPriority
  at: number
  /** Feed ids it goes to, in fan-out order. */
  feeds: string[]
  /** `user:` feeds get it only when their user may read `comments/<subjectId>` then. */
  checkReaders: boolean
}

/** A stored feed item: the document's fields, its feed, and whether later activity may fold into it. */
export interface FeedItemRecord extends FeedItem {
  feedId: string
  foldable: boolean
}

const VERBS: Record<string, string> = {
  thread: 'started a thread on',
  comment: 'commented on',
  reaction: 'reacted to a comment on',
}

/** "Ana and 3 others commented on <subject>". */
export function summarize(type: string, actorName: string, actors: number, subjectId: string | null): string {
  const others = actors - 1
  const who = others > 0 ? `${actorName} and ${others} other${others === 1 ? '' : 's'}` : actorName
  const verb = VERBS[type] ?? `posted ${type} on`
  return subjectId === null ? `${who} ${verb.replace(/ on$/, '')}` : `${who} ${verb} ${subjectId}`
}

/** Whether `activity` folds into `item` (same type, same subject, inside the window, both foldable). */
export function foldsInto(item: FeedItemRecord, activity: FeedActivity, windowMs: number): boolean {
  return (
    item.foldable &&
    activity.summary === null &&
    item.type === activity.type &&
    item.subjectId === activity.subjectId &&
    activity.at >= item.createdAt &&
    activity.at - item.createdAt < windowMs
  )
}

/** The item after `activity`: `existing` folded, or a new one when it does not fold. */
export function fold(feedId: string, existing: FeedItemRecord | null, activity: FeedActivity, windowMs: number): FeedItemRecord {
  const latest = activity.actorIds[0] ?? ''
  const name = activity.actorName ?? latest
  if (existing && foldsInto(existing, activity, windowMs)) {
    const actorIds = [...activity.actorIds, ...existing.actorIds.filter((a) => !activity.actorIds.includes(a))].slice(0, MAX_ITEM_ACTORS)
    return {
      ...existing,
      actorIds,
      threadId: activity.threadId ?? existing.threadId,
      commentId: activity.commentId ?? existing.commentId,
      count: existing.count + 1,
      updatedAt: Math.max(existing.updatedAt, activity.at),
      summary: summarize(activity.type, name, actorIds.length, activity.subjectId),
    }
  }
  return {
    feedId,
    id: activity.itemId,
    type: activity.type,
    actorIds: activity.actorIds.slice(0, MAX_ITEM_ACTORS),
    subjectId: activity.subjectId,
    threadId: activity.threadId,
    commentId: activity.commentId,
    summary: activity.summary ?? summarize(activity.type, name, activity.actorIds.length, activity.subjectId),
    count: 1,
    createdAt: activity.at,
    updatedAt: activity.at,
    foldable: activity.summary === null,
  }
}

/**
 * The items after `activities` (in order) on one feed, starting from the fold candidate
 * `existing`: each folds into the current item or starts a new one. Every item returned changed.
 */
export function foldAll(feedId: string, existing: FeedItemRecord | null, activities: readonly FeedActivity[], windowMs: number): FeedItemRecord[] {
  const changed: FeedItemRecord[] = []
  let current = existing
  for (const activity of activities) {
    const next = fold(feedId, current, activity, windowMs)
    if (changed.at(-1)?.id === next.id) changed[changed.length - 1] = next
    else changed.push(next)
    current = next
  }
  return changed
}

/**
 * {@link foldAll} for one group of activities over many feeds: feeds whose fold candidate is the
 * same (apart from its feed) get the same items, computed once (a burst over 10,000 followers
 * folds once per distinct candidate, not once per feed).
 */
export function groupFolder(activities: readonly FeedActivity[], windowMs: number): (feedId: string, existing: FeedItemRecord | null) => FeedItemRecord[] {
  const folded = new Map<string, FeedItemRecord[]>()
  return (feedId, existing) => {
    const key =
      existing === null
        ? ''
        : JSON.stringify([
            existing.id,
            existing.type,
            existing.subjectId,
            existing.threadId,
            existing.commentId,
            existing.actorIds,
            existing.summary,
            existing.count,
            existing.createdAt,
            existing.updatedAt,
            existing.foldable,
          ])
    let items = folded.get(key)
    if (!items) {
      items = foldAll(feedId, existing, activities, windowMs)
      folded.set(key, items)
    }
    return items.map((item) => (item.feedId === feedId ? item : { ...item, feedId }))
  }
}

/** Whether a retraction takes `item` back: its only activity was the deleted comment. */
export function retracts(item: FeedItemRecord, activity: FeedActivity): boolean {
  return item.count === 1 && item.commentId !== null && item.commentId === activity.commentId && item.subjectId === activity.subjectId
}
