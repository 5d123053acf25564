/**
 * Feed activities, items and trending counters in PostgreSQL (issue 18). Several instances may fan
 * out at once: an activity's row is locked (FOR UPDATE) while a chunk of its fan-out is applied and
 * its cursor moves, so each chunk is applied once; fold candidates and trending rows are locked too.
 */
import type { PoolClient } from 'pg'
import { groupFolder, retracts, type FeedActivity, type FeedItemRecord } from '../../../core/feeds/aggregate.ts'
import { bump, type TrendState } from '../../../core/feeds/trending.ts'
import type { FeedCursor, FeedStore, PendingFeedActivity, TrendInput } from '../../../core/storage/feed-types.ts'
import { AudienceCache } from '../feed-audiences.ts'
import { FEED_ITEM_COLUMNS, feedItemValues, parseActivity, toFeedItem, toTrend, type FeedItemRow, type TrendRow } from '../feed-rows.ts'
import type { PostgresPool } from './pool.ts'

const ITEM_COLUMN_COUNT = FEED_ITEM_COLUMNS.split(',').length

/** Items one upsert statement writes (PostgreSQL takes at most 65,535 parameters). */
const UPSERT_ROWS = 1_000

/** One upsert of `rows` items (each feed's items are distinct, so no row is touched twice). */
function upsertItems(rows: number): string {
  const values = Array.from(
    { length: rows },
    (_, r) => `(${Array.from({ length: ITEM_COLUMN_COUNT }, (_, c) => `$${r * ITEM_COLUMN_COUNT + c + 1}`).join(', ')})`,
  )
  return `INSERT INTO feed_items (${FEED_ITEM_COLUMNS}) VALUES ${values.join(', ')}
  ON CONFLICT (feed_id, id) DO UPDATE SET actor_ids = excluded.actor_ids, thread_id = excluded.thread_id, comment_id = excluded.comment_id,
    summary = excluded.summary, count = excluded.count, updated_at = excluded.updated_at`
}

/** Each feed's fold candidate, locked, in one statement (feeds in sorted order: two instances lock alike). */
const CANDIDATES = `SELECT c.* FROM unnest($1::text[]) AS f(feed_id) CROSS JOIN LATERAL (
    SELECT ${FEED_ITEM_COLUMNS} FROM feed_items i WHERE i.feed_id = f.feed_id AND i.type = $2 AND i.subject_id IS NOT DISTINCT FROM $3 AND i.foldable
    ORDER BY i.created_at DESC LIMIT 1 FOR UPDATE
  ) c`

const TREND_COLUMNS = 'subject_id, score, scored_at, rank, comments, participants, buckets'

async function applyAdd(client: PoolClient, activities: readonly FeedActivity[], feeds: readonly string[], windowMs: number): Promise<string[]> {
  const activity = activities[0]
  if (!activity || feeds.length === 0) return []
  const candidates = new Map<string, FeedItemRecord>()
  if (activity.summary === null) {
    const found = await client.query<FeedItemRow>(CANDIDATES, [[...feeds].sort(), activity.type, activity.subjectId])
    for (const row of found.rows) candidates.set(row.feed_id, toFeedItem(row))
  }
  const fold = groupFolder(activities, windowMs)
  const items = feeds.flatMap((feedId) => fold(feedId, candidates.get(feedId) ?? null))
  for (let from = 0; from < items.length; from += UPSERT_ROWS) {
    const rows = items.slice(from, from + UPSERT_ROWS)
    await client.query(
      upsertItems(rows.length),
      rows.flatMap((item) => feedItemValues(item, item.foldable)),
    )
  }
  return [...feeds]
}

async function applyRetract(client: PoolClient, activity: FeedActivity): Promise<string[]> {
  const rows = await client.query<FeedItemRow>(
    `SELECT ${FEED_ITEM_COLUMNS} FROM feed_items WHERE subject_id IS NOT DISTINCT FROM $1 AND comment_id = $2 FOR UPDATE`,
    [activity.subjectId, activity.commentId],
  )
  const changed: string[] = []
  for (const row of rows.rows) {
    const item = toFeedItem(row)
    if (!retracts(item, activity)) continue
    await client.query('DELETE FROM feed_items WHERE feed_id = $1 AND id = $2', [item.feedId, item.id])
    changed.push(item.feedId)
  }
  return changed
}

export class PostgresFeedStore implements FeedStore {
  private readonly db: PostgresPool
  private readonly audiences = new AudienceCache()

  constructor(db: PostgresPool) {
    this.db = db
  }

  async record(activity: FeedActivity, trend?: TrendInput): Promise<boolean> {
    const stored = this.audiences.store(activity)
    const fresh = await this.db.transaction(async (client) => {
      const inserted = await client.query(
        'INSERT INTO feed_activities (id, data, audience, cursor, done, created_at) VALUES ($1, $2, $3, 0, false, $4) ON CONFLICT (id) DO NOTHING',
        [activity.id, stored.data, stored.audience?.id ?? null, activity.at],
      )
      if (inserted.rowCount === 0) return false
      if (stored.audience && !this.audiences.known(stored.audience.id)) {
        await client.query('INSERT INTO feed_audiences (id, feeds) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [
          stored.audience.id,
          JSON.stringify(stored.audience.feeds),
        ])
      }
      if (trend && activity.subjectId !== null) {
        const subjectId = activity.subjectId
        const participant = await client.query('INSERT INTO feed_trending_participants (subject_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
          subjectId,
          trend.userId,
        ])
        // The row exists before it is locked, so two first comments wait for each other too.
        await client.query(`INSERT INTO feed_trending (${TREND_COLUMNS}) VALUES ($1, 0, $2, '-Infinity', 0, 0, '[]') ON CONFLICT (subject_id) DO NOTHING`, [
          subjectId,
          activity.at,
        ])
        const locked = await client.query<TrendRow>(`SELECT ${TREND_COLUMNS} FROM feed_trending WHERE subject_id = $1 FOR UPDATE`, [subjectId])
        const row = locked.rows[0]
        const current = row && Number(row.comments) > 0 ? toTrend(row) : null
        const next = bump(current, subjectId, activity.at, trend.halfLifeMs, (participant.rowCount ?? 0) > 0)
        await client.query(
          'UPDATE feed_trending SET score = $2, scored_at = $3, rank = $4, comments = $5, participants = $6, buckets = $7 WHERE subject_id = $1',
          [subjectId, next.score, next.scoredAt, next.rank, next.comments, next.participants, JSON.stringify(next.buckets)],
        )
      }
      return true
    })
    // Remembered once committed: a rollback leaves the cache as it was.
    if (fresh && stored.audience && !this.audiences.known(stored.audience.id)) this.audiences.remember(stored.audience.id, [...activity.feeds])
    return fresh
  }

  async pending(limit: number): Promise<PendingFeedActivity[]> {
    const rows = await this.db.query<{ data: string; audience: string | null; cursor: number }>(
      'SELECT data, audience, cursor FROM feed_activities WHERE NOT done ORDER BY created_at, id LIMIT $1',
      [limit],
    )
    const missing = [...new Set(rows.flatMap((row) => (row.audience !== null && this.audiences.get(row.audience) === undefined ? [row.audience] : [])))]
    if (missing.length > 0) {
      const lists = await this.db.query<{ id: string; feeds: string }>('SELECT id, feeds FROM feed_audiences WHERE id = ANY($1)', [missing])
      for (const list of lists) this.audiences.remember(list.id, JSON.parse(list.feeds) as string[])
    }
    return rows.map((row) => {
      const activity = parseActivity(row.data)
      if (row.audience === null) return { activity, cursor: Number(row.cursor) }
      const feeds = this.audiences.get(row.audience)
      if (!feeds) throw new Error(`feed activity ${activity.id} names a missing audience ${row.audience}`)
      return { activity: { ...activity, feeds }, cursor: Number(row.cursor) }
    })
  }

  async apply(activityIds: readonly string[], from: number, feeds: readonly string[], to: number, done: boolean, windowMs: number): Promise<string[]> {
    return this.db.transaction(async (client) => {
      // Locked in id order, so that two instances applying overlapping groups never deadlock.
      const locked = await client.query<{ id: string; data: string; cursor: number; done: boolean }>(
        'SELECT id, data, cursor, done FROM feed_activities WHERE id = ANY($1) ORDER BY id FOR UPDATE',
        [[...activityIds]],
      )
      const byId = new Map(locked.rows.map((row) => [row.id, row]))
      const activities: FeedActivity[] = []
      for (const id of activityIds) {
        const stored = byId.get(id)
        if (!stored || stored.done || Number(stored.cursor) !== from) return []
        activities.push(parseActivity(stored.data))
      }
      const first = activities[0]
      if (!first) return []
      const changed = first.kind === 'retract' ? await applyRetract(client, first) : await applyAdd(client, activities, feeds, windowMs)
      await client.query('UPDATE feed_activities SET cursor = $2, done = $3 WHERE id = ANY($1)', [[...activityIds], to, done])
      return changed
    })
  }

  async list(feedId: string, page: { limit: number; after: FeedCursor | null }): Promise<FeedItemRecord[]> {
    const rows = page.after
      ? await this.db.query<FeedItemRow>(
          `SELECT ${FEED_ITEM_COLUMNS} FROM feed_items WHERE feed_id = $1 AND (updated_at, id) < ($2, $3) ORDER BY updated_at DESC, id DESC LIMIT $4`,
          [feedId, page.after.updatedAt, page.after.id, page.limit],
        )
      : await this.db.query<FeedItemRow>(`SELECT ${FEED_ITEM_COLUMNS} FROM feed_items WHERE feed_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2`, [
          feedId,
          page.limit,
        ])
    return rows.map(toFeedItem)
  }

  async trending(limit: number, offset: number): Promise<TrendState[]> {
    const rows = await this.db.query<TrendRow>(
      `SELECT ${TREND_COLUMNS} FROM feed_trending WHERE comments > 0 ORDER BY rank DESC, subject_id LIMIT $1 OFFSET $2`,
      [limit, offset],
    )
    return rows.map(toTrend)
  }
}
