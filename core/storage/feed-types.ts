/** Feed storage (issue 18): activities recorded once, feed items, paging, trending counters. */
import type { FeedActivity, FeedItemRecord } from '../feeds/aggregate.ts'
import type { TrendState } from '../feeds/trending.ts'

/** Where a page of feed items continues: after this item (newest first: `updatedAt`, then id, descending). */
export interface FeedCursor {
  updatedAt: number
  id: string
}

/** An activity whose fan-out is not finished: `cursor` feeds of its list are done. */
export interface PendingFeedActivity {
  activity: FeedActivity
  cursor: number
}

/** What recording moves along with the activity, in the same transaction (a comment counts for trending). */
export interface TrendInput {
  userId: string
  halfLifeMs: number
}

export interface FeedStore {
  /**
   * Records the activity once: its id is the idempotency key. With `trend`, the subject's trending
   * state moves in the same transaction. False: it was recorded before (nothing changes).
   */
  record(activity: FeedActivity, trend?: TrendInput): Promise<boolean>
  /** Activities whose fan-out is not finished, oldest first. */
  pending(limit: number): Promise<PendingFeedActivity[]>
  /**
   * Applies the activities, in order, to `feeds` (an `add` folds or creates an item in each; a
   * `retract` deletes, in every feed, the items whose only activity was its comment) and moves their
   * cursors from `from` to `to` (finished when `done`), in one transaction; each feed's row is
   * written once for the whole group. Resolves with the feed ids that changed. Several activities
   * form a group only when they share their feeds, type and subject. When a stored cursor is not
   * `from` (another instance or a replay got there first) nothing changes.
   */
  apply(activityIds: readonly string[], from: number, feeds: readonly string[], to: number, done: boolean, windowMs: number): Promise<string[]>
  /** A feed's items, newest first (`updatedAt`, then id, descending), after `after`. */
  list(feedId: string, page: { limit: number; after: FeedCursor | null }): Promise<FeedItemRecord[]>
  /** Subjects by trending rank (highest first). */
  trending(limit: number, offset: number): Promise<TrendState[]>
}
