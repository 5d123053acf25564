/**
 * Moderation in PostgreSQL: hidden words, reports with their distinct count, bans and the log
 * (core/storage/moderation-types.ts). A report's insert and count are one transaction; the count
 * row's lock orders concurrent reports (from several instances), so each count is seen once.
 */
import type { BodyRun } from '../../../protocol/index.ts'
import type {
  BanRecord,
  HiddenBody,
  ModerationAction,
  ModerationLogEntry,
  ModerationLogInput,
  ModerationLogPage,
  ModerationStore,
  ReportResult,
} from '../../../core/storage/types.ts'
import { toNumber, type PostgresPool } from './pool.ts'

interface LogRow {
  id: string
  action: string
  actor_id: string | null
  target_user_id: string | null
  comment_id: string | null
  reason: string | null
  at: string
}

export class PostgresModerationStore implements ModerationStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  async putHidden(body: HiddenBody): Promise<void> {
    await this.db.query(
      `INSERT INTO hidden_bodies (subject_id, comment_id, author_id, runs, hidden_by, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (subject_id, comment_id) DO UPDATE SET author_id = excluded.author_id, runs = excluded.runs,
         hidden_by = excluded.hidden_by, reason = excluded.reason, at = excluded.at`,
      [body.subjectId, body.commentId, body.authorId, JSON.stringify(body.runs), body.hiddenBy, body.reason, body.at],
    )
  }

  async hidden(subjectId: string, commentId: string): Promise<HiddenBody | null> {
    const rows = await this.db.query<{ author_id: string; runs: string; hidden_by: string; reason: string; at: string }>(
      'SELECT author_id, runs, hidden_by, reason, at FROM hidden_bodies WHERE subject_id = $1 AND comment_id = $2',
      [subjectId, commentId],
    )
    const row = rows[0]
    if (!row) return null
    return {
      subjectId,
      commentId,
      authorId: row.author_id,
      runs: JSON.parse(row.runs) as BodyRun[],
      hiddenBy: row.hidden_by,
      reason: row.reason,
      at: toNumber(row.at),
    }
  }

  async removeHidden(subjectId: string, commentId: string): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM hidden_bodies WHERE subject_id = $1 AND comment_id = $2 RETURNING 1', [subjectId, commentId])
    return rows.length === 1
  }

  async report(subjectId: string, commentId: string, reporterId: string, reason: string, at: number): Promise<ReportResult> {
    return this.db.transaction(async (client) => {
      const inserted = await client.query(
        `INSERT INTO comment_reports (subject_id, comment_id, reporter_id, reason, at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING RETURNING 1`,
        [subjectId, commentId, reporterId, reason, at],
      )
      if (inserted.rowCount === 1) {
        const counted = await client.query<{ reporters: number }>(
          `INSERT INTO comment_report_counts (subject_id, comment_id, reporters) VALUES ($1, $2, 1)
           ON CONFLICT (subject_id, comment_id) DO UPDATE SET reporters = comment_report_counts.reporters + 1 RETURNING reporters`,
          [subjectId, commentId],
        )
        return { added: true, reporters: counted.rows[0]?.reporters ?? 1 }
      }
      const count = await client.query<{ reporters: number }>('SELECT reporters FROM comment_report_counts WHERE subject_id = $1 AND comment_id = $2', [
        subjectId,
        commentId,
      ])
      return { added: false, reporters: count.rows[0]?.reporters ?? 0 }
    })
  }

  async appendLog(entry: ModerationLogInput): Promise<ModerationLogEntry> {
    const rows = await this.db.query<{ id: string }>(
      `INSERT INTO moderation_log (subject_id, action, actor_id, target_user_id, comment_id, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [entry.subjectId, entry.action, entry.actorId, entry.targetUserId, entry.commentId, entry.reason, entry.at],
    )
    const { subjectId: _subject, ...rest } = entry
    return { id: String(rows[0]?.id), ...rest }
  }

  async listLog(subjectId: string, options: { before: string | null; limit: number }): Promise<ModerationLogPage> {
    const before = options.before === null || !/^\d+$/.test(options.before) ? null : options.before
    const rows = await this.db.query<LogRow>(
      `SELECT id, action, actor_id, target_user_id, comment_id, reason, at FROM moderation_log
       WHERE subject_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3`,
      [subjectId, before, options.limit + 1],
    )
    const entries = rows.slice(0, options.limit).map((row): ModerationLogEntry => ({
      id: String(row.id),
      action: row.action as ModerationAction,
      actorId: row.actor_id,
      targetUserId: row.target_user_id,
      commentId: row.comment_id,
      reason: row.reason,
      at: toNumber(row.at),
    }))
    return { entries, next: rows.length > options.limit ? (entries.at(-1)?.id ?? null) : null }
  }

  async putBan(ban: BanRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO subject_bans (subject_id, user_id, reason, until, banned_by, at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (subject_id, user_id) DO UPDATE SET reason = excluded.reason, until = excluded.until, banned_by = excluded.banned_by, at = excluded.at`,
      [ban.subjectId, ban.userId, ban.reason, ban.until, ban.bannedBy, ban.at],
    )
  }

  async removeBan(subjectId: string, userId: string): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM subject_bans WHERE subject_id = $1 AND user_id = $2 RETURNING 1', [subjectId, userId])
    return rows.length === 1
  }

  async claimedModerators(limit: number): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(`SELECT id FROM users WHERE access LIKE '%"moderate"%' ORDER BY id COLLATE "C" LIMIT $1`, [limit])
    return rows.map((row) => row.id)
  }

  async ban(subjectId: string, userId: string): Promise<BanRecord | null> {
    const rows = await this.db.query<{ reason: string; until: string | null; banned_by: string | null; at: string }>(
      'SELECT reason, until, banned_by, at FROM subject_bans WHERE subject_id = $1 AND user_id = $2',
      [subjectId, userId],
    )
    const row = rows[0]
    if (!row) return null
    return { subjectId, userId, reason: row.reason, until: row.until === null ? null : toNumber(row.until), bannedBy: row.banned_by, at: toNumber(row.at) }
  }
}
