/** Search tests' shared pieces: a server per backend, REST search calls, and waiting for the index without flooding the rate limit. */
import { PostgresStorage } from '../../server/storage/postgres/index.ts'
import type { ParleyServerOptions } from '../../server/server.ts'
import { createTestSchema } from '../helpers/postgres.ts'
import { rest, TEST_API_KEY, type RestAnswer } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

export type Backend = 'sqlite' | 'postgres'

/** The contract: a new or edited comment is findable within this long. */
export const FINDABLE_WITHIN_MS = 2_000

/** Least time between two polls of the search route (the per-user REST rate is 20 per second). */
const POLL_GAP_MS = 100

export interface SearchResultJson {
  subjectId: string
  threadId: string
  commentId: string
  authorId: string
  snippet: string
  createdAt: number
}

export interface SearchPageJson {
  results: SearchResultJson[]
  nextCursor: string | null
}

/** A server on the backend; with PostgreSQL, a fresh schema (dropped by `dispose`). */
export async function searchServer(backend: Backend, options: ParleyServerOptions = {}): Promise<TestServer> {
  if (backend === 'sqlite') return startServer({ apiKey: TEST_API_KEY, ...options })
  const schema = await createTestSchema()
  const storage = await PostgresStorage.open({ url: schema.url })
  const s = await startServer({ apiKey: TEST_API_KEY, storage, ...options })
  return {
    ...s,
    async dispose() {
      await s.dispose()
      await schema.drop()
    },
  }
}

export function searchPath(q: string, extra: Record<string, string | number> = {}): string {
  const params = new URLSearchParams({ q })
  for (const [key, value] of Object.entries(extra)) params.set(key, String(value))
  return `/api/v1/search?${params.toString()}`
}

export async function search(s: TestServer, token: string, q: string, extra: Record<string, string | number> = {}): Promise<RestAnswer<SearchPageJson>> {
  return rest<SearchPageJson>(s, 'GET', searchPath(q, extra), { bearer: token })
}

/** Comment ids found for `q`, sorted. */
export async function foundIds(s: TestServer, token: string, q: string, extra: Record<string, string | number> = {}): Promise<string[]> {
  const answer = await search(s, token, q, { limit: 50, ...extra })
  if (answer.status !== 200) throw new Error(`search answered ${answer.status}: ${JSON.stringify(answer.body)}`)
  return answer.body.results.map((r) => r.commentId).sort()
}

/** Waits until searching `q` finds exactly `expected` (sorted ids), polling at most every {@link POLL_GAP_MS}. */
export async function waitFound(s: TestServer, token: string, q: string, expected: string[], timeoutMs = FINDABLE_WITHIN_MS): Promise<void> {
  let last = 0
  let seen: string[] = []
  const want = [...expected].sort()
  await waitFor(
    async () => {
      if (Date.now() - last < POLL_GAP_MS) return false
      last = Date.now()
      seen = await foundIds(s, token, q)
      return JSON.stringify(seen) === JSON.stringify(want)
    },
    `"${q}" to find ${JSON.stringify(want)} (last: ${JSON.stringify(seen)})`,
    timeoutMs,
  )
}
