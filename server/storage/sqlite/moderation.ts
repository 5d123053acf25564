/** Moderation in SQLite: hidden words, reports with their distinct count, bans and the log (core/storage/moderation-types.ts). */
import type Database from 'better-sqlite3'
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

interface HiddenRow {
  author_id: string
  runs: string
  hidden_by: string
  reason: string
  at: number
}

interface LogRow {
  id: number
  action: string
  actor_id: string | null
  target_user_id: string | null
  comment_id: string | null
  reason: string | null
  at: number
}

interface BanRow {
  reason: string
  until: number | null
  banned_by: string | null
  at: number
}

function logEntry(row: LogRow): ModerationLogEntry {
  return {
    id: String(row.id),
    action: row.action as ModerationAction,
    actorId: row.actor_id,
    targetUserId: row.target_user_id,
    commentId: row.comment_id,
    reason: row.reason,
    at: row.at,
  }
}

export class SqliteModerationStore implements ModerationStore {
  private readonly s
  private readonly reportTransaction: (subjectId: string, commentId: string, reporterId: string, reason: string, at: number) => ReportResult

  constructor(db: Database.Database) {
    const s = {
      putHidden: db.prepare<[string, string, string, string, string, string, number]>(
        `INSERT INTO hidden_bodies (subject_id, comment_id, author_id, runs, hidden_by, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (subject_id, comment_id) DO UPDATE SET author_id = excluded.author_id, runs = excluded.runs,
           hidden_by = excluded.hidden_by, reason = excluded.reason, at = excluded.at`,
      ),
      hidden: db.prepare<[string, string], HiddenRow>(
        'SELECT author_id, runs, hidden_by, reason, at FROM hidden_bodies WHERE subject_id = ? AND comment_id = ?',
      ),
      removeHidden: db.prepare<[string, string]>('DELETE FROM hidden_bodies WHERE subject_id = ? AND comment_id = ?'),
      insertReport: db.prepare<[string, string, string, string, number]>(
        'INSERT INTO comment_reports (subject_id, comment_id, reporter_id, reason, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      countReport: db.prepare<[string, string], { reporters: number }>(
        `INSERT INTO comment_report_counts (subject_id, comment_id, reporters) VALUES (?, ?, 1)
         ON CONFLICT (subject_id, comment_id) DO UPDATE SET reporters = reporters + 1 RETURNING reporters`,
      ),
      reporters: db.prepare<[string, string], { reporters: number }>('SELECT reporters FROM comment_report_counts WHERE subject_id = ? AND comment_id = ?'),
      appendLog: db.prepare<[string, string, string | null, string | null, string | null, string | null, number], { id: number }>(
        `INSERT INTO moderation_log (subject_id, action, actor_id, target_user_id, comment_id, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      ),
      listLog: db.prepare<[string, number, number], LogRow>(
        'SELECT id, action, actor_id, target_user_id, comment_id, reason, at FROM moderation_log WHERE subject_id = ? AND id < ? ORDER BY id DESC LIMIT ?',
      ),
      putBan: db.prepare<[string, string, string, number | null, string | null, number]>(
        `INSERT INTO subject_bans (subject_id, user_id, reason, until, banned_by, at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (subject_id, user_id) DO UPDATE SET reason = excluded.reason, until = excluded.until, banned_by = excluded.banned_by, at = excluded.at`,
      ),
      removeBan: db.prepare<[string, string]>('DELETE FROM subject_bans WHERE subject_id = ? AND user_id = ?'),
      claimedModerators: db.prepare<[number], { id: string }>(`SELECT id FROM users WHERE access LIKE '%"moderate"%' ORDER BY id LIMIT ?`),
      ban: db.prepare<[string, string], BanRow>('SELECT reason, until, banned_by, at FROM subject_bans WHERE subject_id = ? AND user_id = ?'),
    }
    this.s = s
    this.reportTransaction = db
      .transaction((subjectId: string, commentId: string, reporterId: string, reason: string, at: number): ReportResult => {
        const added = s.insertReport.run(subjectId, commentId, reporterId, reason, at).changes === 1
        if (added) return { added, reporters: s.countReport.get(subjectId, commentId)?.reporters ?? 1 }
        return { added, reporters: s.reporters.get(subjectId, commentId)?.reporters ?? 0 }
      })
      .immediate.bind(null) as typeof this.reportTransaction
  }

  async putHidden(body: HiddenBody): Promise<void> {
    this.s.putHidden.run(body.subjectId, body.commentId, body.authorId, JSON.stringify(body.runs), body.hiddenBy, body.reason, body.at)
  }

  async hidden(subjectId: string, commentId: string): Promise<HiddenBody | null> {
    const row = this.s.hidden.get(subjectId, commentId)
    if (!row) return null
    return { subjectId, commentId, authorId: row.author_id, runs: JSON.parse(row.runs) as BodyRun[], hiddenBy: row.hidden_by, reason: row.reason, at: row.at }
  }

  async removeHidden(subjectId: string, commentId: string): Promise<boolean> {
    return this.s.removeHidden.run(subjectId, commentId).changes === 1
  }

  async report(subjectId: string, commentId: string, reporterId: string, reason: string, at: number): Promise<ReportResult> {
    return this.reportTransaction(subjectId, commentId, reporterId, reason, at)
  }

  async appendLog(entry: ModerationLogInput): Promise<ModerationLogEntry> {
    const { id } = this.s.appendLog.get(entry.subjectId, entry.action, entry.actorId, entry.targetUserId, entry.commentId, entry.reason, entry.at) as {
      id: number
    }
    const { subjectId: _subject, ...rest } = entry
    return { id: String(id), ...rest }
  }

  async listLog(subjectId: string, options: { before: string | null; limit: number }): Promise<ModerationLogPage> {
    const before = options.before === null ? Number.MAX_SAFE_INTEGER : Number(options.before)
    const rows = this.s.listLog.all(subjectId, Number.isFinite(before) ? before : 0, options.limit + 1)
    const page = rows.slice(0, options.limit).map(logEntry)
    return { entries: page, next: rows.length > options.limit ? (page.at(-1)?.id ?? null) : null }
  }

  async putBan(ban: BanRecord): Promise<void> {
    this.s.putBan.run(ban.subjectId, ban.userId, ban.reason, ban.until, ban.bannedBy, ban.at)
  }

  async removeBan(subjectId: string, userId: string): Promise<boolean> {
    return this.s.removeBan.run(subjectId, userId).changes === 1
  }

  async claimedModerators(limit: number): Promise<string[]> {
    return this.s.claimedModerators.all(limit).map((row) => row.id)
  }

  async ban(subjectId: string, userId: string): Promise<BanRecord | null> {
    const row = this.s.ban.get(subjectId, userId)
    return row ? { subjectId, userId, reason: row.reason, until: row.until, bannedBy: row.banned_by, at: row.at } : null
  }
}
