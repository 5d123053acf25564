/**
 * Directory search for mention autocomplete: users whose handle or name matches, keeping only
 * those who may read the subject (their remembered claim, membership, default role, dev mode).
 * Storage returns candidates page by page; the access rules, which storage cannot evaluate
 * (claims are patterns), filter them, until enough are found or the scan limit is reached.
 */
import { commentsDocumentName } from '../../protocol/index.ts'
import type { Storage, UserRecord } from '../storage/types.ts'
import type { AccessResolver } from './resolve.ts'

/** Candidates read from storage per round. */
export const DIRECTORY_PAGE_SIZE = 100

/** Most candidates one search looks at; bounds the work of a query that matches many non-readers. */
export const DIRECTORY_MAX_SCANNED = 2_000

export interface DirectoryQuery {
  query: string
  subjectId: string
  limit: number
}

export async function searchReaders(storage: Storage, access: AccessResolver, request: DirectoryQuery): Promise<UserRecord[]> {
  const documentName = commentsDocumentName(request.subjectId)
  const found: UserRecord[] = []
  for (let offset = 0; offset < DIRECTORY_MAX_SCANNED && found.length < request.limit; offset += DIRECTORY_PAGE_SIZE) {
    const page = await storage.users.search(request.query, { limit: DIRECTORY_PAGE_SIZE, offset })
    found.push(...(await access.filterReaders(documentName, page)))
    if (page.length < DIRECTORY_PAGE_SIZE) break
  }
  return found.slice(0, request.limit)
}
