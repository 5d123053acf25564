/** The user directory and remembered token claims in PostgreSQL. */
import { parseAccess, searchable, searchPatterns, serializeAccess } from '../records.ts'
import type { TokenProfile, UserRecord, UserStore } from '../types.ts'
import { toNumber, type PostgresPool } from './pool.ts'

interface UserRow {
  id: string
  name: string | null
  handle: string | null
  profile_from_backend: boolean
  access: string | null
  token_seen_at: string | null
  updated_at: string
}

const COLUMNS = 'id, name, handle, profile_from_backend, access, token_seen_at, updated_at'

const PUT_PROFILE_SQL = `
  INSERT INTO users (id, name, name_lower, handle, handle_lower, profile_from_backend, updated_at)
  VALUES ($1, $2, $3, $4, $5, TRUE, $6)
  ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_lower = excluded.name_lower, handle = excluded.handle,
    handle_lower = excluded.handle_lower, profile_from_backend = TRUE, updated_at = excluded.updated_at
  RETURNING ${COLUMNS}`

// Token values fill in name and handle only while the backend has not set the profile, and only
// when the token carries them.
const REMEMBER_TOKEN_SQL = `
  INSERT INTO users AS u (id, name, name_lower, handle, handle_lower, access, token_seen_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
  ON CONFLICT (id) DO UPDATE SET
    name = CASE WHEN NOT u.profile_from_backend AND excluded.name IS NOT NULL THEN excluded.name ELSE u.name END,
    name_lower = CASE WHEN NOT u.profile_from_backend AND excluded.name IS NOT NULL THEN excluded.name_lower ELSE u.name_lower END,
    handle = CASE WHEN NOT u.profile_from_backend AND excluded.handle IS NOT NULL THEN excluded.handle ELSE u.handle END,
    handle_lower = CASE WHEN NOT u.profile_from_backend AND excluded.handle IS NOT NULL THEN excluded.handle_lower ELSE u.handle_lower END,
    access = excluded.access, token_seen_at = excluded.token_seen_at, updated_at = excluded.updated_at`

// COLLATE "C": the same byte order as SQLite, whatever the database's collation.
const SEARCH_SQL = `
  SELECT ${COLUMNS} FROM users
  WHERE $1::boolean OR handle_lower LIKE $2 OR name_lower LIKE $2 OR name_lower LIKE $3
  ORDER BY handle_lower IS NULL, handle_lower COLLATE "C", name_lower IS NULL, name_lower COLLATE "C", id COLLATE "C"
  LIMIT $4 OFFSET $5`

function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    name: row.name,
    handle: row.handle,
    profileFromBackend: row.profile_from_backend,
    access: parseAccess(row.access),
    tokenSeenAt: row.token_seen_at === null ? null : toNumber(row.token_seen_at),
    updatedAt: toNumber(row.updated_at),
  }
}

export class PostgresUserStore implements UserStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  async get(userId: string): Promise<UserRecord | null> {
    const rows = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [userId])
    return rows[0] ? toUser(rows[0]) : null
  }

  async findByHandle(handle: string): Promise<UserRecord | null> {
    const rows = await this.db.query<UserRow>(
      `SELECT ${COLUMNS} FROM users WHERE handle_lower = $1 ORDER BY updated_at DESC, id COLLATE "C" LIMIT 1`,
      [handle.toLowerCase()],
    )
    return rows[0] ? toUser(rows[0]) : null
  }

  async putProfile(userId: string, profile: { name: string | null; handle: string | null }): Promise<UserRecord> {
    const rows = await this.db.query<UserRow>(PUT_PROFILE_SQL, [
      userId,
      profile.name,
      searchable(profile.name),
      profile.handle,
      searchable(profile.handle),
      Date.now(),
    ])
    if (!rows[0]) throw new Error(`put of user ${userId} returned no row`)
    return toUser(rows[0])
  }

  async rememberToken(userId: string, token: TokenProfile): Promise<void> {
    await this.db.query(REMEMBER_TOKEN_SQL, [
      userId,
      token.name ?? null,
      searchable(token.name),
      token.handle ?? null,
      searchable(token.handle),
      serializeAccess(token.access),
      Date.now(),
    ])
  }

  async search(query: string, page: { limit: number; offset: number }): Promise<UserRecord[]> {
    const { prefix, word } = searchPatterns(query)
    const rows = await this.db.query<UserRow>(SEARCH_SQL, [query === '', prefix, word, page.limit, page.offset])
    return rows.map(toUser)
  }
}
