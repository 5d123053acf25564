/** Conversions every backend shares for feed rows. */
import type { FeedActivity, FeedItemRecord } from '../../core/feeds/aggregate.ts'
import type { TrendState } from '../../core/feeds/trending.ts'

/** A numeric column (BIGINT and DOUBLE PRECISION may come back as strings from PostgreSQL). */
const toNumberValue = (value: number | string): number => (typeof value === 'number' ? value : Number(value))

/** A stored feed item row; BIGINT columns may come back as strings (PostgreSQL). */
export interface FeedItemRow {
  feed_id: string
  id: string
  type: string
  actor_ids: string
  subject_id: string | null
  thread_id: string | null
  comment_id: string | null
  summary: string
  count: number | string
  created_at: number | string
  updated_at: number | string
  foldable: number | boolean
}

export const FEED_ITEM_COLUMNS = 'feed_id, id, type, actor_ids, subject_id, thread_id, comment_id, summary, count, created_at, updated_at, foldable'

export function toFeedItem(row: FeedItemRow): FeedItemRecord {
  return {
    feedId: row.feed_id,
    id: row.id,
    type: row.type,
    actorIds: JSON.parse(row.actor_ids) as string[],
    subjectId: row.subject_id,
    threadId: row.thread_id,
    commentId: row.comment_id,
    summary: row.summary,
    count: toNumberValue(row.count),
    createdAt: toNumberValue(row.created_at),
    updatedAt: toNumberValue(row.updated_at),
    foldable: row.foldable === true || row.foldable === 1,
  }
}

/** Values in {@link FEED_ITEM_COLUMNS} order; `foldable` as the backend stores booleans. */
export function feedItemValues(item: FeedItemRecord, foldable: number | boolean): unknown[] {
  return [
    item.feedId,
    item.id,
    item.type,
    JSON.stringify(item.actorIds),
    item.subjectId,
    item.threadId,
    item.commentId,
    item.summary,
    item.count,
    item.createdAt,
    item.updatedAt,
    foldable,
  ]
}

export interface TrendRow {
  subject_id: string
  score: number | string
  scored_at: number | string
  rank: number | string
  comments: number | string
  participants: number | string
  buckets: string
}

export function toTrend(row: TrendRow): TrendState {
  return {
    subjectId: row.subject_id,
    score: toNumberValue(row.score),
    scoredAt: toNumberValue(row.scored_at),
    rank: toNumberValue(row.rank),
    comments: toNumberValue(row.comments),
    participants: toNumberValue(row.participants),
    buckets: JSON.parse(row.buckets) as Array<[number, number]>,
  }
}

export function parseActivity(data: string): FeedActivity {
  return JSON.parse(data) as FeedActivity
}
