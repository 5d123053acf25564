/**
 * The user directory and remembered token claims in PostgreSQL. Each change runs in one
 * transaction: the profile, who holds the handle, and the user's search keys (`user_search`) move
 * together. Two instances claiming one handle at once: the unique index refuses the second, which
 * runs again and then sees the first holder. Rules shared with SQLite are in ../user-directory.ts.
 */
import type { PoolClient } from 'pg'
import { parseAccess, searchable, serializeAccess } from '../../../core/storage/records.ts'
import type { DirectoryCursor, DirectoryPage, PutProfileResult, RememberedToken, TokenProfile, UserRecord, UserStore } from '../../../core/storage/types.ts'
import { applyTokenProfile, firstCursor, prefixEnd, searchKeys, toDirectoryPage } from '../../../core/storage/user-directory.ts'
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
const U_COLUMNS = 'u.id, u.name, u.handle, u.profile_from_backend, u.access, u.token_seen_at, u.updated_at'

/** SQLSTATE of a unique violation (two claims of one handle at once). */
const UNIQUE_VIOLATION = '23505'

/** Attempts of a change that lost a race for a handle. */
const HANDLE_RACE_ATTEMPTS = 3

const PUT_PROFILE_SQL = `
  INSERT INTO users (id, name, name_lower, handle, handle_lower, profile_from_backend, updated_at)
  VALUES ($1, $2, $3, $4, $5, TRUE, $6)
  ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_lower = excluded.name_lower, handle = excluded.handle,
    handle_lower = excluded.handle_lower, profile_from_backend = TRUE, updated_at = excluded.updated_at
  RETURNING ${COLUMNS}`

const REMEMBER_TOKEN_SQL = `
  INSERT INTO users (id, name, name_lower, handle, handle_lower, access, token_seen_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
  ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_lower = excluded.name_lower, handle = excluded.handle,
    handle_lower = excluded.handle_lower, access = excluded.access, token_seen_at = excluded.token_seen_at, updated_at = excluded.updated_at`

// Keyset pages over the (term, user_id) primary key (COLLATE "C": SQLite's byte order): one index range read each.
// The join compares ids in the default collation, so that it uses the users primary key.
const SEARCH_SQL = `
  SELECT k.term, ${U_COLUMNS} FROM user_search k JOIN users u ON u.id = k.user_id COLLATE "default"
  WHERE (k.term, k.user_id) > ($1, $2) AND k.term < $3
  ORDER BY k.term, k.user_id LIMIT $4`

const SEARCH_ALL_SQL = `
  SELECT k.term, ${U_COLUMNS} FROM user_search k JOIN users u ON u.id = k.user_id COLLATE "default"
  WHERE (k.term, k.user_id) > ($1, $2)
  ORDER BY k.term, k.user_id LIMIT $3`

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

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === UNIQUE_VIOLATION
}

/** Recomputes a user's search keys from the stored name and handle. */
async function rewriteKeys(client: PoolClient, userId: string): Promise<void> {
  await client.query('DELETE FROM user_search WHERE user_id = $1', [userId])
  const { rows } = await client.query<{ name_lower: string | null; handle_lower: string | null }>('SELECT name_lower, handle_lower FROM users WHERE id = $1', [
    userId,
  ])
  const keys = rows[0] ? searchKeys(rows[0].name_lower, rows[0].handle_lower) : []
  if (keys.length > 0) await client.query('INSERT INTO user_search (term, user_id) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING', [keys, userId])
}

export class PostgresUserStore implements UserStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  /** Runs a transaction again when it lost a race for a handle (a unique violation). */
  private async retryingHandleRace<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(work)
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= HANDLE_RACE_ATTEMPTS) throw error
      }
    }
  }

  async get(userId: string): Promise<UserRecord | null> {
    const rows = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [userId])
    return rows[0] ? toUser(rows[0]) : null
  }

  async getMany(userIds: readonly string[]): Promise<Map<string, UserRecord>> {
    const users = new Map<string, UserRecord>()
    if (userIds.length === 0) return users
    for (const row of await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = ANY($1::text[])`, [[...userIds]])) {
      const user = toUser(row)
      users.set(user.id, user)
    }
    return users
  }

  async findByHandle(handle: string): Promise<UserRecord | null> {
    const rows = await this.db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE handle_lower = $1`, [handle.toLowerCase()])
    return rows[0] ? toUser(rows[0]) : null
  }

  async putProfile(userId: string, profile: { name: string | null; handle: string | null }): Promise<PutProfileResult> {
    return this.retryingHandleRace(async (client) => {
      const at = Date.now()
      const handleLower = searchable(profile.handle)
      const displaced =
        handleLower === null
          ? []
          : (
              await client.query<{ id: string }>(
                'UPDATE users SET handle = NULL, handle_lower = NULL, updated_at = $1 WHERE handle_lower = $2 AND id <> $3 RETURNING id',
                [at, handleLower, userId],
              )
            ).rows.map((row) => row.id)
      const { rows } = await client.query<UserRow>(PUT_PROFILE_SQL, [userId, profile.name, searchable(profile.name), profile.handle, handleLower, at])
      if (!rows[0]) throw new Error(`put of user ${userId} returned no row`)
      for (const id of displaced) await rewriteKeys(client, id)
      await rewriteKeys(client, userId)
      return { user: toUser(rows[0]), displaced }
    })
  }

  async rememberToken(userId: string, token: TokenProfile): Promise<RememberedToken> {
    return this.retryingHandleRace(async (client) => {
      const current = (await client.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [userId])).rows[0]
      const holder =
        token.handle === undefined
          ? undefined
          : (await client.query<{ id: string }>('SELECT id FROM users WHERE handle_lower = $1', [token.handle.toLowerCase()])).rows[0]
      const change = applyTokenProfile(current ? toUser(current) : null, token, holder?.id ?? null, userId)
      await client.query(REMEMBER_TOKEN_SQL, [
        userId,
        change.name,
        searchable(change.name),
        change.handle,
        searchable(change.handle),
        serializeAccess(token.access),
        Date.now(),
      ])
      if (change.changed) await rewriteKeys(client, userId)
      return { handleRefused: change.handleRefused }
    })
  }

  async search(query: string, page: { limit: number; after: DirectoryCursor | null }): Promise<DirectoryPage> {
    const lower = query.toLowerCase()
    const after = page.after ?? firstCursor(lower)
    const end = prefixEnd(lower)
    const rows =
      end === null
        ? await this.db.query<UserRow & { term: string }>(SEARCH_ALL_SQL, [after.key, after.userId, page.limit])
        : await this.db.query<UserRow & { term: string }>(SEARCH_SQL, [after.key, after.userId, end, page.limit])
    return toDirectoryPage(
      rows.map((row) => ({ key: row.term, user: toUser(row) })),
      page.limit,
    )
  }
}
