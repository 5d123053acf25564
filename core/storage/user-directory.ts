/**
 * Rules every backend shares for the user directory: the search keys of a user (what a prefix
 * search matches), the key range of a prefix, and how a verified token changes a profile (the
 * backend's profile wins; a handle another user holds is never taken by a token).
 *
 * Search keys: the lower-cased handle, the lower-cased name, and the rest of the name from each
 * word on (a word starts after a space). A query matches a user when some key starts with it, so
 * `lop` finds "Ana Lopez" through the key `lopez`. Keys live in an indexed table (`user_search`,
 * primary key `(key, user_id)`), so a search is one index range read, paged by the last
 * `(key, user_id)` seen (keyset), never by OFFSET.
 */
import type { DirectoryCursor, DirectoryPage, UserRecord } from './types.ts'

/**
 * The search keys of a user, from the lower-cased name and handle. The migrations that fill the
 * key table for existing users apply the same rule in SQL (split at `' '`, no empty key, no key
 * starting with a space).
 */
export function searchKeys(nameLower: string | null, handleLower: string | null): string[] {
  const keys = new Set<string>()
  if (handleLower) keys.add(handleLower)
  let rest = nameLower ?? ''
  for (;;) {
    if (rest !== '' && !rest.startsWith(' ')) keys.add(rest)
    const space = rest.indexOf(' ')
    if (space < 0) break
    rest = rest.slice(space + 1)
  }
  return [...keys]
}

/** First code point after the surrogate range. */
const AFTER_SURROGATES = 0xe000
const FIRST_SURROGATE = 0xd800
const LAST_CODE_POINT = 0x10ffff

/**
 * The smallest string greater than every string that starts with `prefix`, in code point order
 * (which is the byte order of UTF-8: SQLite's BINARY collation, PostgreSQL's `"C"`); `null` when
 * there is none (empty prefix, or only U+10FFFF). Keys `k` with `prefix <= k < end` start with it.
 */
export function prefixEnd(prefix: string): string | null {
  const points = Array.from(prefix)
  while (points.length > 0) {
    const last = points.pop()?.codePointAt(0) ?? LAST_CODE_POINT
    if (last === LAST_CODE_POINT) continue
    const next = last + 1 === FIRST_SURROGATE ? AFTER_SURROGATES : last + 1
    return points.join('') + String.fromCodePoint(next)
  }
  return null
}

/** A search row: the matched key and the user. */
export interface KeyedMatch {
  key: string
  user: UserRecord
}

/** Folds `limit` rows (read with `limit` as the SQL limit) into a page. */
export function toDirectoryPage(rows: readonly KeyedMatch[], limit: number): DirectoryPage {
  const seen = new Set<string>()
  const users: UserRecord[] = []
  for (const row of rows) {
    if (seen.has(row.user.id)) continue
    seen.add(row.user.id)
    users.push(row.user)
  }
  const last = rows.at(-1)
  return { users, next: rows.length === limit && last ? { key: last.key, userId: last.user.id } : null }
}

/** The first cursor of a query: before every key that starts with it. */
export function firstCursor(queryLower: string): DirectoryCursor {
  return { key: queryLower, userId: '' }
}

/** What the stored profile looks like before a token is remembered. */
export interface StoredProfile {
  name: string | null
  handle: string | null
  profileFromBackend: boolean
}

/** What remembering a token does to name and handle. */
export interface TokenProfileChange {
  name: string | null
  handle: string | null
  /** The token carried a handle that another user holds: it was not taken (first holder keeps it). */
  handleRefused: boolean
  /** Name or handle differ from what was stored (the search keys change). */
  changed: boolean
}

/**
 * A token's `name` and `handle` fill in the profile while the backend has not set it, and only
 * when the token carries them. A handle is taken only when nobody else holds it (case-insensitive):
 * `holderId` is the user who holds the token's handle now, if any.
 */
export function applyTokenProfile(
  current: StoredProfile | null,
  token: { name: string | undefined; handle: string | undefined },
  holderId: string | null,
  userId: string,
): TokenProfileChange {
  const fromBackend = current?.profileFromBackend ?? false
  const name = !fromBackend && token.name !== undefined ? token.name : (current?.name ?? null)
  let handle = current?.handle ?? null
  let handleRefused = false
  if (!fromBackend && token.handle !== undefined) {
    if (holderId !== null && holderId !== userId) handleRefused = true
    else handle = token.handle
  }
  const changed = current === null || name !== current.name || handle !== current.handle
  return { name, handle, handleRefused, changed }
}
