/** Subjects and membership in SQLite. */
import type Database from 'better-sqlite3'
import type { Role } from '../../../protocol/index.ts'
import { parseRole } from '../../../core/storage/records.ts'
import type { MemberRecord, StoredRoles, SubjectRecord, SubjectStore } from '../../../core/storage/types.ts'

interface SubjectRow {
  id: string
  default_role: string | null
  updated_at: number
}

interface MemberRow {
  user_id: string
  role: string
  updated_at: number
}

function toSubject(row: SubjectRow): SubjectRecord {
  return { id: row.id, defaultRole: parseRole(row.default_role), updatedAt: row.updated_at }
}

function toMember(row: MemberRow): MemberRecord | null {
  const role = parseRole(row.role)
  return role ? { userId: row.user_id, role, updatedAt: row.updated_at } : null
}

export class SqliteSubjectStore implements SubjectStore {
  private readonly db: Database.Database
  private readonly statements

  constructor(db: Database.Database) {
    this.db = db
    this.statements = {
      get: db.prepare<[string], SubjectRow>('SELECT id, default_role, updated_at FROM subjects WHERE id = ?'),
      put: db.prepare<[string, string | null, number], SubjectRow>(
        `INSERT INTO subjects (id, default_role, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET default_role = excluded.default_role, updated_at = excluded.updated_at
         RETURNING id, default_role, updated_at`,
      ),
      register: db.prepare<[string, number]>('INSERT INTO subjects (id, default_role, updated_at) VALUES (?, NULL, ?) ON CONFLICT (id) DO NOTHING'),
      storedRoles: db.prepare<[string, string, string], { default_role: string | null; member_role: string | null }>(
        `SELECT (SELECT default_role FROM subjects WHERE id = ?) AS default_role,
                (SELECT role FROM subject_members WHERE subject_id = ? AND user_id = ?) AS member_role`,
      ),
      memberRoles: db.prepare<[string, string], { user_id: string; role: string }>(
        'SELECT user_id, role FROM subject_members WHERE subject_id = ? AND user_id IN (SELECT value FROM json_each(?))',
      ),
      putMember: db.prepare<[string, string, string, number], MemberRow>(
        `INSERT INTO subject_members (subject_id, user_id, role, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (subject_id, user_id) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at
         RETURNING user_id, role, updated_at`,
      ),
      removeMember: db.prepare<[string, string]>('DELETE FROM subject_members WHERE subject_id = ? AND user_id = ?'),
      listMembers: db.prepare<[string], MemberRow>('SELECT user_id, role, updated_at FROM subject_members WHERE subject_id = ? ORDER BY user_id'),
    }
  }

  async get(subjectId: string): Promise<SubjectRecord | null> {
    const row = this.statements.get.get(subjectId)
    return row ? toSubject(row) : null
  }

  async put(subjectId: string, defaultRole: Role | null): Promise<SubjectRecord> {
    const row = this.statements.put.get(subjectId, defaultRole, Date.now())
    if (!row) throw new Error(`put of subject ${subjectId} returned no row`)
    return toSubject(row)
  }

  async storedRoles(subjectId: string, userId: string): Promise<StoredRoles> {
    const row = this.statements.storedRoles.get(subjectId, subjectId, userId)
    return { defaultRole: parseRole(row?.default_role), memberRole: parseRole(row?.member_role) }
  }

  async memberRoles(subjectId: string, userIds: readonly string[]): Promise<Map<string, Role>> {
    const roles = new Map<string, Role>()
    if (userIds.length === 0) return roles
    for (const row of this.statements.memberRoles.all(subjectId, JSON.stringify(userIds))) {
      const role = parseRole(row.role)
      if (role) roles.set(row.user_id, role)
    }
    return roles
  }

  async putMember(subjectId: string, userId: string, role: Role): Promise<MemberRecord> {
    const run = this.db.transaction((): MemberRow | undefined => {
      const now = Date.now()
      this.statements.register.run(subjectId, now)
      return this.statements.putMember.get(subjectId, userId, role, now)
    })
    const row = run.immediate()
    const member = row ? toMember(row) : null
    if (!member) throw new Error(`put of member ${userId} on ${subjectId} returned no row`)
    return member
  }

  async removeMember(subjectId: string, userId: string): Promise<boolean> {
    return this.statements.removeMember.run(subjectId, userId).changes > 0
  }

  async listMembers(subjectId: string): Promise<MemberRecord[]> {
    return this.statements.listMembers.all(subjectId).flatMap((row) => toMember(row) ?? [])
  }
}
