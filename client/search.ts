/**
 * `client.search(query, options)`: comment search over REST (`GET /api/v1/search`, docs/PROTOCOL.md
 * "Search") with the client's token. A refusal rejects with a `ParleyError` carrying the server's
 * error code (`invalid_request` for a malformed query, `forbidden` for a subject the user may not
 * read, `rate_limited`, `storage_unavailable`).
 */
import { ErrorCode, isErrorCode, ParleyError } from '../protocol/index.ts'
import type { TokenSource } from './session.ts'

export interface SearchOptions {
  /** Only this subject's comments. */
  subjectId?: string
  /** Results per page (the server's default and maximum apply). */
  limit?: number
  /** `nextCursor` of the previous page. */
  cursor?: string
}

export interface SearchResult {
  subjectId: string
  threadId: string
  commentId: string
  authorId: string
  /** HTML-escaped text around the match, matches wrapped in `<mark>`…`</mark>`. */
  snippet: string
  createdAt: number
}

export interface SearchPage {
  results: SearchResult[]
  /** Pass as `cursor` for the next page; null: no more. */
  nextCursor: string | null
}

function errorOf(status: number, body: unknown): ParleyError {
  const error = typeof body === 'object' && body !== null && 'error' in body ? (body as { error: { code?: unknown; message?: unknown } }).error : null
  const code = isErrorCode(error?.code) ? error.code : ErrorCode.Internal
  const message = typeof error?.message === 'string' ? error.message : `search failed with HTTP ${status}`
  return new ParleyError(code, message)
}

export async function search(httpBase: string, token: TokenSource, query: string, options: SearchOptions = {}): Promise<SearchPage> {
  const params = new URLSearchParams({ q: query })
  if (options.subjectId !== undefined) params.set('subjectId', options.subjectId)
  if (options.limit !== undefined) params.set('limit', String(options.limit))
  if (options.cursor !== undefined) params.set('cursor', options.cursor)
  const jwt = typeof token === 'function' ? await token() : token
  const response = await fetch(`${httpBase}/api/v1/search?${params.toString()}`, { headers: { authorization: `Bearer ${jwt}` } })
  const text = await response.text()
  let body: unknown
  try {
    body = text === '' ? null : JSON.parse(text)
  } catch {
    throw new ParleyError(ErrorCode.Internal, `search answered HTTP ${response.status} with a body that is not JSON`)
  }
  if (!response.ok) throw errorOf(response.status, body)
  return body as SearchPage
}
