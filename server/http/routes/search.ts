/**
 * `GET /api/v1/search` (issue 20): the caller's query over every comment of the subjects they may
 * read, ranked (bm25 / ts_rank), with marked snippets and an opaque cursor. The query is parsed by
 * core/search/query.ts (a malformed one is 400 `invalid_request`, never passed to the engine).
 *
 * Access is decided per subject by the same resolver as sockets (token claims, membership, default
 * roles), never by trusting the client: candidates come from the index best first, and those of
 * subjects the caller may not read are skipped. A page may hold fewer than `limit` results with a
 * non-null `nextCursor` when many candidates in a row were skipped ({@link SEARCH_MAX_SCANNED}).
 */
import { z } from 'zod'
import { commentsDocumentName, ErrorCode, roleAtLeast } from '../../../protocol/index.ts'
import type { ParleyUser } from '../../../core/auth/claims.ts'
import { parseQuery } from '../../../core/search/query.ts'
import { buildSnippet } from '../../../core/search/snippet.ts'
import type { SearchCursor, SearchHit } from '../../../core/storage/types.ts'
import { errorResponse, jsonError } from '../errors.ts'
import { userRoute, type RouteDefinition } from '../route.ts'
import { idSchema } from '../schemas.ts'
import { requireRole, type RestDependencies } from './context.ts'

/** Results per page unless `limit` says otherwise. */
export const SEARCH_DEFAULT_LIMIT = 20

/** Most results per page. */
export const SEARCH_MAX_LIMIT = 50

/** Candidates read from the index at once while filling a page. */
export const SEARCH_SCAN_BATCH = 100

/** Most candidates one request reads; past it the page ends early, with a cursor. */
export const SEARCH_MAX_SCANNED = 2_000

/** Longest `q` the route reads; the parser refuses one over its own limit with a clear message. */
const MAX_Q_CHARS = 20_000

const STORAGE_DOWN = { code: ErrorCode.StorageUnavailable, message: 'storage does not answer; retry later' }

export const searchResultSchema = z.object({
  subjectId: z.string(),
  threadId: z.string(),
  commentId: z.string(),
  authorId: z.string(),
  snippet: z.string(),
  createdAt: z.number(),
})

function encodeCursor(cursor: SearchCursor): string {
  return Buffer.from(JSON.stringify([cursor.score, cursor.key, cursor.floor])).toString('base64url')
}

function decodeCursor(cursor: string): SearchCursor | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (Array.isArray(parsed) && Number.isFinite(parsed[0]) && Number.isSafeInteger(parsed[1]) && Number.isSafeInteger(parsed[2])) {
      return { score: parsed[0] as number, key: parsed[1] as number, floor: parsed[2] as number }
    }
  } catch {
    // answered below
  }
  return null
}

export function searchRoutes(deps: RestDependencies): RouteDefinition[] {
  const { storage, access, logger } = deps

  /** Whether the user may read each subject, decided once per request. */
  function readable(user: ParleyUser): (subjectId: string) => Promise<boolean> {
    const decided = new Map<string, Promise<boolean>>()
    return (subjectId) => {
      let decision = decided.get(subjectId)
      if (!decision) {
        decision = access.decide(user, commentsDocumentName(subjectId)).then((d) => {
          if (d.ok) return roleAtLeast(d.value.role, 'read')
          if (d.error.code === ErrorCode.StorageUnavailable) throw new Error(d.error.message)
          return false
        })
        decided.set(subjectId, decision)
      }
      return decision
    }
  }

  return [
    userRoute(
      {
        method: 'get',
        path: '/api/v1/search',
        tag: 'search',
        summary: 'Search the comments of the subjects the caller may read',
        description:
          'Words are ANDed, `"quoted phrases"` match in order, `prefix*` matches word starts (at least 2 letters). Best match first. `snippet` is HTML-escaped text with matches in `<mark>`…`</mark>`. Pass `nextCursor` back as `cursor`; null: no more. Deleted and hidden comments are never found.',
        query: z.object({
          q: z.string().max(MAX_Q_CHARS),
          subjectId: idSchema.optional(),
          limit: z.coerce.number().int().min(1).max(SEARCH_MAX_LIMIT).default(SEARCH_DEFAULT_LIMIT),
          cursor: z.string().max(400).optional(),
        }),
        responses: { 200: { description: 'A page of results', schema: z.object({ results: z.array(searchResultSchema), nextCursor: z.string().nullable() }) } },
        errors: [400, 401, 403, 503],
      },
      async ({ c, query, user }) => {
        const parsed = parseQuery(query.q)
        if (!parsed.ok) return jsonError(c, 400, ErrorCode.InvalidRequest, `query.q: ${parsed.error.message}`)
        let after = query.cursor === undefined ? null : decodeCursor(query.cursor)
        if (query.cursor !== undefined && after === null) return jsonError(c, 400, ErrorCode.InvalidRequest, 'query.cursor: not a cursor this server issued')
        const subjectId = query.subjectId ?? null
        if (subjectId !== null) {
          const role = await requireRole(access, user, commentsDocumentName(subjectId), 'read')
          if (!role.ok) return errorResponse(c, role.error)
        }
        const mayRead = readable(user)
        const results: SearchHit[] = []
        let scanned = 0
        let exhausted = false
        try {
          while (results.length < query.limit && scanned < SEARCH_MAX_SCANNED) {
            const batch = await storage.search.query(parsed.value, { subjectId, limit: SEARCH_SCAN_BATCH, after })
            let used = 0
            for (const hit of batch) {
              used++
              after = hit.cursor
              if ((subjectId !== null || (await mayRead(hit.subjectId))) && results.push(hit) === query.limit) break
            }
            scanned += used
            if (batch.length < SEARCH_SCAN_BATCH && used === batch.length) {
              exhausted = true
              break
            }
          }
        } catch (error) {
          logger.error({ err: error, userId: user.id }, 'search failed')
          return errorResponse(c, STORAGE_DOWN)
        }
        return c.json({
          results: results.map((hit) => ({
            subjectId: hit.subjectId,
            threadId: hit.threadId,
            commentId: hit.commentId,
            authorId: hit.authorId,
            snippet: buildSnippet(hit.text, parsed.value),
            createdAt: hit.createdAt,
          })),
          nextCursor: exhausted || after === null ? null : encodeCursor(after),
        })
      },
    ),
  ]
}
