/**
 * Moderation in storage (contract additions, "Moderation"): the words of hidden comments (kept
 * server-side for unhide and audit), reports with their distinct reporters, bans per subject, and
 * the moderation log.
 */
import type { BodyRun } from '../../protocol/index.ts'

/** A hidden comment's words, as they were when the moderator hid it. */
export interface HiddenBody {
  subjectId: string
  commentId: string
  authorId: string
  runs: BodyRun[]
  hiddenBy: string
  reason: string
  at: number
}

/** What one report did: `added` is false for a repeat by the same reporter; `reporters` counts distinct reporters. */
export interface ReportResult {
  added: boolean
  reporters: number
}

export const MODERATION_ACTIONS = ['hide', 'unhide', 'delete', 'report', 'ban', 'unban'] as const
export type ModerationAction = (typeof MODERATION_ACTIONS)[number]

export interface ModerationLogInput {
  subjectId: string
  action: ModerationAction
  actorId: string | null
  targetUserId: string | null
  commentId: string | null
  reason: string | null
  at: number
}

/** One entry of a subject's moderation log; `id` grows with every entry. */
export interface ModerationLogEntry extends Omit<ModerationLogInput, 'subjectId'> {
  id: string
}

export interface ModerationLogPage {
  /** Newest first. */
  entries: ModerationLogEntry[]
  /** Pass as `before` for the next (older) page; null on the last page. */
  next: string | null
}

/** A user banned from a subject: at most `read` there until `until` (null: until lifted). */
export interface BanRecord {
  subjectId: string
  userId: string
  reason: string
  until: number | null
  bannedBy: string | null
  at: number
}

export interface ModerationStore {
  /** Keeps a hidden comment's words (replacing what a previous hide kept). */
  putHidden(body: HiddenBody): Promise<void>
  hidden(subjectId: string, commentId: string): Promise<HiddenBody | null>
  /** Forgets a comment's kept words (after unhide); false when there were none. */
  removeHidden(subjectId: string, commentId: string): Promise<boolean>
  /**
   * Records a report, once per reporter and comment. The count and the insert are one atomic step:
   * of concurrent reports (several instances), exactly one sees each count.
   */
  report(subjectId: string, commentId: string, reporterId: string, reason: string, at: number): Promise<ReportResult>
  /** Appends to the subject's moderation log. */
  appendLog(entry: ModerationLogInput): Promise<ModerationLogEntry>
  /** The subject's log, newest first, `limit` entries older than `before` (an entry id). */
  listLog(subjectId: string, options: { before: string | null; limit: number }): Promise<ModerationLogPage>
  putBan(ban: BanRecord): Promise<void>
  /** False when the user was not banned. */
  removeBan(subjectId: string, userId: string): Promise<boolean>
  /** The user's ban on the subject, expired or not (the caller compares `until` with its clock). */
  ban(subjectId: string, userId: string): Promise<BanRecord | null>
  /**
   * Users whose remembered access claim grants `moderate` on some pattern, by id, at most `limit`:
   * candidates the caller checks against one subject (the claim's patterns decide).
   */
  claimedModerators(limit: number): Promise<string[]>
}
