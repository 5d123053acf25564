/** Feed activities, items and trending counters in SQLite (issue 18); every change is one IMMEDIATE transaction. */
import type Database from 'better-sqlite3'
import { groupFolder, retracts, type FeedActivity } from '../../../core/feeds/aggregate.ts'
import { bump } from '../../../core/feeds/trending.ts'
import { PENDING_PAGE } from '../../../core/feeds/fanout.ts'
import type { FeedCursor, FeedStore, PendingFeedActivity, TrendInput } from '../../../core/storage/feed-types.ts'
import type { TrendState } from '../../../core/feeds/trending.ts'
import { GroupCommit } from './group-commit.ts'
import { AudienceCache, type StoredActivity } from '../feed-audiences.ts'
import { FEED_ITEM_COLUMNS, feedItemValues, parseActivity, toFeedItem, toTrend, type FeedItemRow, type TrendRow } from '../feed-rows.ts'

const PLACEHOLDERS = FEED_ITEM_COLUMNS.split(',')
  .map(() => '?')
  .join(', ')

/** Parsed pending activities kept at most (a few pages); past it the cache starts again. */
const MAX_PARSED_ACTIVITIES = 4 * PENDING_PAGE

export class SqliteFeedStore implements FeedStore {
  private readonly s
  private readonly audiences = new AudienceCache()
  private readonly recordTx: (activity: FeedActivity, trend: TrendInput | undefined) => StoredActivity | null
  /** The feeds changed, or `null` when refused (an activity already applied, or its cursor moved by another instance). */
  private readonly applyTx: (
    activityIds: readonly string[],
    from: number,
    feeds: readonly string[],
    to: number,
    done: boolean,
    windowMs: number,
  ) => string[] | null

  private readonly group: GroupCommit
  /** Pending activities as {@link pending} parsed them, by id; forgotten once applied, or when their apply is refused. */
  private readonly parsed = new Map<string, FeedActivity>()

  constructor(db: Database.Database, group: GroupCommit = new GroupCommit(db)) {
    this.group = group
    const s = {
      insertActivity: db.prepare<[string, string, string | null, number]>(
        'INSERT INTO feed_activities (id, data, audience, cursor, done, created_at) VALUES (?, ?, ?, 0, 0, ?) ON CONFLICT (id) DO NOTHING',
      ),
      insertAudience: db.prepare<[string, string]>('INSERT INTO feed_audiences (id, feeds) VALUES (?, ?) ON CONFLICT (id) DO NOTHING'),
      audience: db.prepare<[string], { feeds: string }>('SELECT feeds FROM feed_audiences WHERE id = ?'),
      pending: db.prepare<[number], { id: string; audience: string | null; cursor: number }>(
        'SELECT id, audience, cursor FROM feed_activities WHERE done = 0 ORDER BY created_at, id LIMIT ?',
      ),
      activityData: db.prepare<[string], { id: string; data: string }>('SELECT id, data FROM feed_activities WHERE id IN (SELECT value FROM json_each(?))'),
      // A group's rows in one statement each (ids as a JSON array): a window's burst is hundreds of activities.
      activities: db.prepare<[string], { id: string; cursor: number; done: number }>(
        'SELECT id, cursor, done FROM feed_activities WHERE id IN (SELECT value FROM json_each(?))',
      ),
      advance: db.prepare<[number, number, string]>('UPDATE feed_activities SET cursor = ?, done = ? WHERE id IN (SELECT value FROM json_each(?))'),
      candidate: db.prepare<[string, string, string | null], FeedItemRow>(
        `SELECT ${FEED_ITEM_COLUMNS} FROM feed_items WHERE feed_id = ? AND type = ? AND subject_id IS ? AND foldable = 1 ORDER BY created_at DESC LIMIT 1`,
      ),
      upsert: db.prepare(
        `INSERT INTO feed_items (${FEED_ITEM_COLUMNS}) VALUES (${PLACEHOLDERS})
         ON CONFLICT (feed_id, id) DO UPDATE SET actor_ids = excluded.actor_ids, thread_id = excluded.thread_id, comment_id = excluded.comment_id,
           summary = excluded.summary, count = excluded.count, updated_at = excluded.updated_at`,
      ),
      ofComment: db.prepare<[string | null, string | null], FeedItemRow>(
        `SELECT ${FEED_ITEM_COLUMNS} FROM feed_items WHERE subject_id IS ? AND comment_id = ?`,
      ),
      deleteItem: db.prepare<[string, string]>('DELETE FROM feed_items WHERE feed_id = ? AND id = ?'),
      first: db.prepare<[string, number], FeedItemRow>(
        `SELECT ${FEED_ITEM_COLUMNS} FROM feed_items WHERE feed_id = ? ORDER BY updated_at DESC, id DESC LIMIT ?`,
      ),
      after: db.prepare<[string, number, number, string, number], FeedItemRow>(
        `SELECT ${FEED_ITEM_COLUMNS} FROM feed_items WHERE feed_id = ? AND (updated_at < ? OR (updated_at = ? AND id < ?))
         ORDER BY updated_at DESC, id DESC LIMIT ?`,
      ),
      trend: db.prepare<[string], TrendRow>(
        'SELECT subject_id, score, scored_at, rank, comments, participants, buckets FROM feed_trending WHERE subject_id = ?',
      ),
      putTrend: db.prepare<[string, number, number, number, number, number, string]>(
        `INSERT INTO feed_trending (subject_id, score, scored_at, rank, comments, participants, buckets) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (subject_id) DO UPDATE SET score = excluded.score, scored_at = excluded.scored_at, rank = excluded.rank,
           comments = excluded.comments, participants = excluded.participants, buckets = excluded.buckets`,
      ),
      participant: db.prepare<[string, string]>('INSERT INTO feed_trending_participants (subject_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      top: db.prepare<[number, number], TrendRow>(
        'SELECT subject_id, score, scored_at, rank, comments, participants, buckets FROM feed_trending ORDER BY rank DESC, subject_id LIMIT ? OFFSET ?',
      ),
    }
    this.s = s
    this.recordTx = db
      .transaction((activity: FeedActivity, trend: TrendInput | undefined): StoredActivity | null => {
        const stored = this.audiences.store(activity)
        if (s.insertActivity.run(activity.id, stored.data, stored.audience?.id ?? null, activity.at).changes === 0) return null
        // Remembered once the transaction commits (record below): a rollback leaves the cache as it was.
        if (stored.audience && !this.audiences.known(stored.audience.id)) s.insertAudience.run(stored.audience.id, JSON.stringify(stored.audience.feeds))
        if (trend && activity.subjectId !== null) {
          const fresh = s.participant.run(activity.subjectId, trend.userId).changes > 0
          const row = s.trend.get(activity.subjectId)
          const next = bump(row ? toTrend(row) : null, activity.subjectId, activity.at, trend.halfLifeMs, fresh)
          s.putTrend.run(next.subjectId, next.score, next.scoredAt, next.rank, next.comments, next.participants, JSON.stringify(next.buckets))
        }
        return stored
      })
      .immediate.bind(null) as typeof this.recordTx
    this.applyTx = db
      .transaction((activityIds: readonly string[], from: number, feeds: readonly string[], to: number, done: boolean, windowMs: number): string[] | null => {
        const ids = JSON.stringify(activityIds)
        const byId = new Map(s.activities.all(ids).map((row) => [row.id, row]))
        // As the fan-out read them from the pending page (parsed once); read here what it did not.
        const unread = activityIds.filter((id) => !this.parsed.has(id))
        const read = new Map(unread.length === 0 ? [] : s.activityData.all(JSON.stringify(unread)).map((row) => [row.id, parseActivity(row.data)]))
        const activities: FeedActivity[] = []
        for (const id of activityIds) {
          const stored = byId.get(id)
          const parsed = this.parsed.get(id) ?? read.get(id)
          if (!stored || stored.done === 1 || stored.cursor !== from || !parsed) return null
          activities.push(parsed)
        }
        const activity = activities[0]
        if (!activity) return []
        const changed: string[] = []
        if (activity.kind === 'retract') {
          for (const row of s.ofComment.all(activity.subjectId, activity.commentId)) {
            const item = toFeedItem(row)
            if (!retracts(item, activity)) continue
            s.deleteItem.run(item.feedId, item.id)
            changed.push(item.feedId)
          }
        } else {
          const fold = groupFolder(activities, windowMs)
          for (const feedId of feeds) {
            const row = activity.summary === null ? s.candidate.get(feedId, activity.type, activity.subjectId) : undefined
            for (const item of fold(feedId, row ? toFeedItem(row) : null)) s.upsert.run(...feedItemValues(item, item.foldable ? 1 : 0))
            changed.push(feedId)
          }
        }
        s.advance.run(to, done ? 1 : 0, ids)
        return changed
      })
      .immediate.bind(null) as typeof this.applyTx
  }

  async record(activity: FeedActivity, trend?: TrendInput): Promise<boolean> {
    // A savepoint inside the turn's group transaction: the records of one turn commit together.
    const stored = await this.group.run(() => this.recordTx(activity, trend))
    if (stored?.audience && !this.audiences.known(stored.audience.id)) this.audiences.remember(stored.audience.id, [...activity.feeds])
    return stored !== null
  }

  /**
   * The page is read on every drain (under a steady stream, every `FANOUT_DRAIN_GAP_MS`, core/feeds/fanout.ts):
   * cursors each time, an activity's data once (it never changes once recorded).
   */
  async pending(limit: number): Promise<PendingFeedActivity[]> {
    const rows = this.s.pending.all(limit)
    const unread = rows.filter((row) => !this.parsed.has(row.id))
    if (unread.length > 0) {
      if (this.parsed.size + unread.length > MAX_PARSED_ACTIVITIES) this.parsed.clear()
      const audiences = new Map(unread.map((row) => [row.id, row.audience]))
      for (const row of this.s.activityData.all(JSON.stringify(unread.map((r) => r.id)))) {
        this.parsed.set(row.id, this.withFeeds(parseActivity(row.data), audiences.get(row.id) ?? null))
      }
    }
    return rows.map((row) => {
      const activity = this.parsed.get(row.id)
      if (!activity) throw new Error(`pending feed activity ${row.id} has no data`)
      return { activity, cursor: row.cursor }
    })
  }

  /** The activity with its feed list read from its audience (once per process). */
  private withFeeds(activity: FeedActivity, audience: string | null): FeedActivity {
    if (audience === null) return activity
    const cached = this.audiences.get(audience)
    if (cached) return { ...activity, feeds: cached }
    const row = this.s.audience.get(audience)
    if (!row) throw new Error(`feed activity ${activity.id} names a missing audience ${audience}`)
    return { ...activity, feeds: this.audiences.remember(audience, JSON.parse(row.feeds) as string[]) }
  }

  async apply(activityIds: readonly string[], from: number, feeds: readonly string[], to: number, done: boolean, windowMs: number): Promise<string[]> {
    // A savepoint inside the turn's group transaction: the subjects applied side by side commit together.
    const changed = await this.group.run(() => this.applyTx(activityIds, from, feeds, to, done, windowMs))
    // Done, or refused (the next pending page reads whatever is still pending afresh): nothing to keep.
    if (done || changed === null) for (const id of activityIds) this.parsed.delete(id)
    return changed ?? []
  }

  async list(feedId: string, page: { limit: number; after: FeedCursor | null }) {
    const rows = page.after
      ? this.s.after.all(feedId, page.after.updatedAt, page.after.updatedAt, page.after.id, page.limit)
      : this.s.first.all(feedId, page.limit)
    return rows.map(toFeedItem)
  }

  async trending(limit: number, offset: number): Promise<TrendState[]> {
    return this.s.top.all(limit, offset).map(toTrend)
  }
}
