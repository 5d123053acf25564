/** Subjects and membership in PostgreSQL; each call is one statement (one implicit transaction). */
import type { Role } from '../../../protocol/index.ts'
import { parseRole } from '../../../core/storage/records.ts'
import type { MemberRecord, StoredRoles, SubjectRecord, SubjectStore } from '../../../core/storage/types.ts'
import { toNumber, type PostgresPool } from './pool.ts'

interface SubjectRow {
  id: string
  default_role: string | null
  updated_at: string
}

interface MemberRow {
  user_id: string
  role: string
  updated_at: string
}

const PUT_SUBJECT_SQL = `
  INSERT INTO subjects (id, default_role, updated_at) VALUES ($1, $2, $3)
  ON CONFLICT (id) DO UPDATE SET default_role = excluded.default_role, updated_at = excluded.updated_at
  RETURNING id, default_role, updated_at`

const STORED_ROLES_SQL = `
  SELECT (SELECT default_role FROM subjects WHERE id = $1) AS default_role,
         (SELECT role FROM subject_members WHERE subject_id = $1 AND user_id = $2) AS member_role`

// Registers the subject (when new) and sets the member in one statement.
const PUT_MEMBER_SQL = `
  WITH registered AS (
    INSERT INTO subjects (id, default_role, updated_at) VALUES ($1, NULL, $4) ON CONFLICT (id) DO NOTHING
  )
  INSERT INTO subject_members (subject_id, user_id, role, updated_at) VALUES ($1, $2, $3, $4)
  ON CONFLICT (subject_id, user_id) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at
  RETURNING user_id, role, updated_at`

function toSubject(row: SubjectRow): SubjectRecord {
  return { id: row.id, defaultRole: parseRole(row.default_role), updatedAt: toNumber(row.updated_at) }
}

function toMember(row: MemberRow): MemberRecord | null {
  const role = parseRole(row.role)
  return role ? { userId: row.user_id, role, updatedAt: toNumber(row.updated_at) } : null
}

export class PostgresSubjectStore implements SubjectStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  async get(subjectId: string): Promise<SubjectRecord | null> {
    const rows = await this.db.query<SubjectRow>('SELECT id, default_role, updated_at FROM subjects WHERE id = $1', [subjectId])
    return rows[0] ? toSubject(rows[0]) : null
  }

  async put(subjectId: string, defaultRole: Role | null): Promise<SubjectRecord> {
    const rows = await this.db.query<SubjectRow>(PUT_SUBJECT_SQL, [subjectId, defaultRole, Date.now()])
    if (!rows[0]) throw new Error(`put of subject ${subjectId} returned no row`)
    return toSubject(rows[0])
  }

  async storedRoles(subjectId: string, userId: string): Promise<StoredRoles> {
    const rows = await this.db.query<{ default_role: string | null; member_role: string | null }>(STORED_ROLES_SQL, [subjectId, userId])
    return { defaultRole: parseRole(rows[0]?.default_role), memberRole: parseRole(rows[0]?.member_role) }
  }

  async memberRoles(subjectId: string, userIds: readonly string[]): Promise<Map<string, Role>> {
    const roles = new Map<string, Role>()
    if (userIds.length === 0) return roles
    const rows = await this.db.query<{ user_id: string; role: string }>(
      'SELECT user_id, role FROM subject_members WHERE subject_id = $1 AND user_id = ANY($2::text[])',
      [subjectId, [...userIds]],
    )
    for (const row of rows) {
      const role = parseRole(row.role)
      if (role) roles.set(row.user_id, role)
    }
    return roles
  }

  async putMember(subjectId: string, userId: string, role: Role): Promise<MemberRecord> {
    const rows = await this.db.query<MemberRow>(PUT_MEMBER_SQL, [subjectId, userId, role, Date.now()])
    const member = rows[0] ? toMember(rows[0]) : null
    if (!member) throw new Error(`put of member ${userId} on ${subjectId} returned no row`)
    return member
  }

  async removeMember(subjectId: string, userId: string): Promise<boolean> {
    const rows = await this.db.query<{ user_id: string }>('DELETE FROM subject_members WHERE subject_id = $1 AND user_id = $2 RETURNING user_id', [
      subjectId,
      userId,
    ])
    return rows.length > 0
  }

  async listMembers(subjectId: string): Promise<MemberRecord[]> {
    const rows = await this.db.query<MemberRow>('SELECT user_id, role, updated_at FROM subject_members WHERE subject_id = $1 ORDER BY user_id COLLATE "C"', [
      subjectId,
    ])
    return rows.flatMap((row) => toMember(row) ?? [])
  }
}
