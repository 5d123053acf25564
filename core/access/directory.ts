/**
 * Directory search for mention autocomplete: users with a search key (handle, name, a word of
 * the name) that starts with the query, keeping only those who may read the subject (their
 * remembered claim, membership, default role, dev mode). Storage returns candidates page by page,
 * each page one index range read continuing after the last (key, user) seen; the access rules,
 * which storage cannot evaluate (claims are patterns), filter them, until enough are found or the
 * scan limit is reached. A user matched by several keys counts once, at their first key.
 * Between pages the search yields to the event loop: with SQLite every read completes at once, and
 * without the yield a search (and every search queued with it) would run to its end before any
 * other request is served. At most {@link DIRECTORY_CONCURRENT_SEARCHES} searches of one server
 * scan at once; the others wait their turn, so a crowd of searches never crowds out /health.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { commentsDocumentName } from '../../protocol/index.ts'
import type { DirectoryCursor, Storage, UserRecord } from '../storage/types.ts'
import type { AccessResolver } from './resolve.ts'

/** Candidates (search key rows) read from storage per round. */
export const DIRECTORY_PAGE_SIZE = 100

/** Most candidates (key rows) one search reads; bounds the work of a query that matches many non-readers. */
export const DIRECTORY_MAX_SCANNED = 2_000

/** Searches of one server that read storage at the same time; more wait in order. */
export const DIRECTORY_CONCURRENT_SEARCHES = 4

export interface DirectoryQuery {
  query: string
  subjectId: string
  limit: number
}

export async function searchReaders(storage: Storage, access: AccessResolver, request: DirectoryQuery): Promise<UserRecord[]> {
  const documentName = commentsDocumentName(request.subjectId)
  const found: UserRecord[] = []
  const seen = new Set<string>()
  let after: DirectoryCursor | null = null
  for (let scanned = 0; scanned < DIRECTORY_MAX_SCANNED && found.length < request.limit; scanned += DIRECTORY_PAGE_SIZE) {
    const page = await storage.users.search(request.query, { limit: DIRECTORY_PAGE_SIZE, after })
    const fresh = page.users.filter((user) => !seen.has(user.id))
    for (const user of fresh) seen.add(user.id)
    found.push(...(await access.filterReaders(documentName, fresh)))
    if (page.next === null) break
    after = page.next
    await nextTurn()
  }
  return found.slice(0, request.limit)
}

export interface Directory {
  /** {@link searchReaders}, at most {@link DIRECTORY_CONCURRENT_SEARCHES} at a time. */
  search(request: DirectoryQuery): Promise<UserRecord[]>
}

export function createDirectory(storage: Storage, access: AccessResolver, concurrency = DIRECTORY_CONCURRENT_SEARCHES): Directory {
  let running = 0
  const waiting: Array<() => void> = []
  const release = () => {
    const next = waiting.shift()
    if (next) next()
    else running--
  }
  return {
    async search(request) {
      if (running < concurrency) running++
      else await new Promise<void>((resolve) => waiting.push(resolve))
      try {
        return await searchReaders(storage, access, request)
      } finally {
        release()
      }
    },
  }
}
