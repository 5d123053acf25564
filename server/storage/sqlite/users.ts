/** The user directory and remembered token claims in SQLite. */
import type Database from 'better-sqlite3'
import { parseAccess, searchable, searchPatterns, serializeAccess } from '../records.ts'
import type { TokenProfile, UserRecord, UserStore } from '../types.ts'

interface UserRow {
  id: string
  name: string | null
  handle: string | null
  profile_from_backend: number
  access: string | null
  token_seen_at: number | null
  updated_at: number
}

const COLUMNS = 'id, name, handle, profile_from_backend, access, token_seen_at, updated_at'

function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    name: row.name,
    handle: row.handle,
    profileFromBackend: row.profile_from_backend !== 0,
    access: parseAccess(row.access),
    tokenSeenAt: row.token_seen_at,
    updatedAt: row.updated_at,
  }
}

interface TokenParams {
  id: string
  name: string | null
  name_lower: string | null
  handle: string | null
  handle_lower: string | null
  access: string | null
  at: number
}

export class SqliteUserStore implements UserStore {
  private readonly statements

  constructor(db: Database.Database) {
    this.statements = {
      get: db.prepare<[string], UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = ?`),
      byHandle: db.prepare<[string], UserRow>(`SELECT ${COLUMNS} FROM users WHERE handle_lower = ? ORDER BY updated_at DESC, id LIMIT 1`),
      putProfile: db.prepare<[TokenParams], UserRow>(
        `INSERT INTO users (id, name, name_lower, handle, handle_lower, profile_from_backend, updated_at)
         VALUES (@id, @name, @name_lower, @handle, @handle_lower, 1, @at)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_lower = excluded.name_lower, handle = excluded.handle,
           handle_lower = excluded.handle_lower, profile_from_backend = 1, updated_at = excluded.updated_at
         RETURNING ${COLUMNS}`,
      ),
      // Token values fill in name and handle only while the backend has not set the profile, and
      // only when the token carries them.
      rememberToken: db.prepare<[TokenParams]>(
        `INSERT INTO users (id, name, name_lower, handle, handle_lower, access, token_seen_at, updated_at)
         VALUES (@id, @name, @name_lower, @handle, @handle_lower, @access, @at, @at)
         ON CONFLICT (id) DO UPDATE SET
           name = CASE WHEN users.profile_from_backend = 0 AND excluded.name IS NOT NULL THEN excluded.name ELSE users.name END,
           name_lower = CASE WHEN users.profile_from_backend = 0 AND excluded.name IS NOT NULL THEN excluded.name_lower ELSE users.name_lower END,
           handle = CASE WHEN users.profile_from_backend = 0 AND excluded.handle IS NOT NULL THEN excluded.handle ELSE users.handle END,
           handle_lower = CASE WHEN users.profile_from_backend = 0 AND excluded.handle IS NOT NULL THEN excluded.handle_lower ELSE users.handle_lower END,
           access = excluded.access, token_seen_at = excluded.token_seen_at, updated_at = excluded.updated_at`,
      ),
      search: db.prepare<[{ all: number; prefix: string; word: string; limit: number; offset: number }], UserRow>(
        `SELECT ${COLUMNS} FROM users
         WHERE @all = 1 OR handle_lower LIKE @prefix ESCAPE '\\' OR name_lower LIKE @prefix ESCAPE '\\' OR name_lower LIKE @word ESCAPE '\\'
         ORDER BY handle_lower IS NULL, handle_lower, name_lower IS NULL, name_lower, id
         LIMIT @limit OFFSET @offset`,
      ),
    }
  }

  async get(userId: string): Promise<UserRecord | null> {
    const row = this.statements.get.get(userId)
    return row ? toUser(row) : null
  }

  async findByHandle(handle: string): Promise<UserRecord | null> {
    const row = this.statements.byHandle.get(handle.toLowerCase())
    return row ? toUser(row) : null
  }

  async putProfile(userId: string, profile: { name: string | null; handle: string | null }): Promise<UserRecord> {
    const row = this.statements.putProfile.get({
      id: userId,
      name: profile.name,
      name_lower: searchable(profile.name),
      handle: profile.handle,
      handle_lower: searchable(profile.handle),
      access: null,
      at: Date.now(),
    })
    if (!row) throw new Error(`put of user ${userId} returned no row`)
    return toUser(row)
  }

  async rememberToken(userId: string, token: TokenProfile): Promise<void> {
    this.statements.rememberToken.run({
      id: userId,
      name: token.name ?? null,
      name_lower: searchable(token.name),
      handle: token.handle ?? null,
      handle_lower: searchable(token.handle),
      access: serializeAccess(token.access),
      at: Date.now(),
    })
  }

  async search(query: string, page: { limit: number; offset: number }): Promise<UserRecord[]> {
    const { prefix, word } = searchPatterns(query)
    return this.statements.search.all({ all: query === '' ? 1 : 0, prefix, word, limit: page.limit, offset: page.offset }).map(toUser)
  }
}
