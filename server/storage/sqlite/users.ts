/**
 * The user directory and remembered token claims in SQLite. Each change runs in one immediate
 * transaction: the profile, who holds the handle, and the user's search keys (`user_search`) move
 * together. Rules shared with PostgreSQL are in ../user-directory.ts.
 */
import type Database from 'better-sqlite3'
import { GroupCommit } from './group-commit.ts'
import { parseAccess, searchable, serializeAccess } from '../../../core/storage/records.ts'
import type { DirectoryCursor, DirectoryPage, PutProfileResult, RememberedToken, TokenProfile, UserRecord, UserStore } from '../../../core/storage/types.ts'
import { applyTokenProfile, firstCursor, prefixEnd, searchKeys, toDirectoryPage } from '../../../core/storage/user-directory.ts'

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
const U_COLUMNS = 'u.id, u.name, u.handle, u.profile_from_backend, u.access, u.token_seen_at, u.updated_at'

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

interface ProfileParams {
  id: string
  name: string | null
  name_lower: string | null
  handle: string | null
  handle_lower: string | null
  at: number
}

interface SearchParams {
  term: string
  user: string
  end: string
  limit: number
}

export class SqliteUserStore implements UserStore {
  private readonly statements
  private readonly putProfileTransaction: (userId: string, profile: { name: string | null; handle: string | null }) => PutProfileResult
  private readonly rememberTransaction: (userId: string, token: TokenProfile) => RememberedToken

  private readonly group: GroupCommit

  constructor(db: Database.Database, group: GroupCommit = new GroupCommit(db)) {
    this.group = group
    const s = {
      get: db.prepare<[string], UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = ?`),
      getMany: db.prepare<[string], UserRow>(`SELECT ${COLUMNS} FROM users WHERE id IN (SELECT value FROM json_each(?))`),
      byHandle: db.prepare<[string], UserRow>(`SELECT ${COLUMNS} FROM users WHERE handle_lower = ?`),
      putProfile: db.prepare<[ProfileParams], UserRow>(
        `INSERT INTO users (id, name, name_lower, handle, handle_lower, profile_from_backend, updated_at)
         VALUES (@id, @name, @name_lower, @handle, @handle_lower, 1, @at)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_lower = excluded.name_lower, handle = excluded.handle,
           handle_lower = excluded.handle_lower, profile_from_backend = 1, updated_at = excluded.updated_at
         RETURNING ${COLUMNS}`,
      ),
      displace: db.prepare<[number, string, string], { id: string }>(
        'UPDATE users SET handle = NULL, handle_lower = NULL, updated_at = ? WHERE handle_lower = ? AND id <> ? RETURNING id',
      ),
      rememberToken: db.prepare<[ProfileParams & { access: string | null }]>(
        `INSERT INTO users (id, name, name_lower, handle, handle_lower, access, token_seen_at, updated_at)
         VALUES (@id, @name, @name_lower, @handle, @handle_lower, @access, @at, @at)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_lower = excluded.name_lower, handle = excluded.handle,
           handle_lower = excluded.handle_lower, access = excluded.access, token_seen_at = excluded.token_seen_at, updated_at = excluded.updated_at`,
      ),
      lowered: db.prepare<[string], { name_lower: string | null; handle_lower: string | null }>('SELECT name_lower, handle_lower FROM users WHERE id = ?'),
      deleteKeys: db.prepare<[string]>('DELETE FROM user_search WHERE user_id = ?'),
      insertKey: db.prepare<[string, string]>('INSERT OR IGNORE INTO user_search (term, user_id) VALUES (?, ?)'),
      // Keyset pages over the (term, user_id) primary key: one index range read each.
      search: db.prepare<[SearchParams], UserRow & { term: string }>(
        `SELECT k.term, ${U_COLUMNS} FROM user_search k JOIN users u ON u.id = k.user_id
         WHERE (k.term, k.user_id) > (@term, @user) AND k.term < @end
         ORDER BY k.term, k.user_id LIMIT @limit`,
      ),
      searchAll: db.prepare<[Omit<SearchParams, 'end'>], UserRow & { term: string }>(
        `SELECT k.term, ${U_COLUMNS} FROM user_search k JOIN users u ON u.id = k.user_id
         WHERE (k.term, k.user_id) > (@term, @user)
         ORDER BY k.term, k.user_id LIMIT @limit`,
      ),
    }
    this.statements = s

    /** Recomputes a user's search keys from the stored name and handle. */
    const rewriteKeys = (userId: string) => {
      s.deleteKeys.run(userId)
      const row = s.lowered.get(userId)
      if (row) for (const key of searchKeys(row.name_lower, row.handle_lower)) s.insertKey.run(key, userId)
    }

    this.putProfileTransaction = db.transaction((userId: string, profile: { name: string | null; handle: string | null }) => {
      const at = Date.now()
      const handleLower = searchable(profile.handle)
      const displaced = handleLower === null ? [] : s.displace.all(at, handleLower, userId).map((row) => row.id)
      const row = s.putProfile.get({
        id: userId,
        name: profile.name,
        name_lower: searchable(profile.name),
        handle: profile.handle,
        handle_lower: handleLower,
        at,
      })
      if (!row) throw new Error(`put of user ${userId} returned no row`)
      for (const id of displaced) rewriteKeys(id)
      rewriteKeys(userId)
      return { user: toUser(row), displaced }
    }).immediate

    this.rememberTransaction = db.transaction((userId: string, token: TokenProfile) => {
      const current = s.get.get(userId)
      const holder = token.handle === undefined ? undefined : s.byHandle.get(token.handle.toLowerCase())
      const change = applyTokenProfile(current ? toUser(current) : null, token, holder?.id ?? null, userId)
      s.rememberToken.run({
        id: userId,
        name: change.name,
        name_lower: searchable(change.name),
        handle: change.handle,
        handle_lower: searchable(change.handle),
        access: serializeAccess(token.access),
        at: Date.now(),
      })
      if (change.changed) rewriteKeys(userId)
      return { handleRefused: change.handleRefused }
    }).immediate
  }

  async get(userId: string): Promise<UserRecord | null> {
    const row = this.statements.get.get(userId)
    return row ? toUser(row) : null
  }

  async getMany(userIds: readonly string[]): Promise<Map<string, UserRecord>> {
    const users = new Map<string, UserRecord>()
    if (userIds.length === 0) return users
    for (const row of this.statements.getMany.all(JSON.stringify(userIds))) {
      const user = toUser(row)
      users.set(user.id, user)
    }
    return users
  }

  async findByHandle(handle: string): Promise<UserRecord | null> {
    const row = this.statements.byHandle.get(handle.toLowerCase())
    return row ? toUser(row) : null
  }

  async putProfile(userId: string, profile: { name: string | null; handle: string | null }): Promise<PutProfileResult> {
    return this.putProfileTransaction(userId, profile)
  }

  async rememberToken(userId: string, token: TokenProfile): Promise<RememberedToken> {
    // On every first connect of a user: a savepoint inside the turn's group transaction.
    return this.group.run(() => this.rememberTransaction(userId, token))
  }

  async search(query: string, page: { limit: number; after: DirectoryCursor | null }): Promise<DirectoryPage> {
    const lower = query.toLowerCase()
    const after = page.after ?? firstCursor(lower)
    const end = prefixEnd(lower)
    const params = { term: after.key, user: after.userId, limit: page.limit }
    const rows = end === null ? this.statements.searchAll.all(params) : this.statements.search.all({ ...params, end })
    return toDirectoryPage(
      rows.map((row) => ({ key: row.term, user: toUser(row) })),
      page.limit,
    )
  }
}
