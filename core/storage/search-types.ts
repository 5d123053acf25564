/**
 * The search index behind the storage interface (issue 20): one entry per findable comment,
 * matched by the tokens of core/search/query.ts and ranked by the engine (SQLite FTS5 bm25,
 * PostgreSQL ts_rank). Per comments document, an index mark records the log seq the index was
 * known complete for (set when the document unloads), so a crash between a write and its
 * indexing is repaired when the document is next loaded or swept at start.
 */
import type { SearchQuery } from '../search/query.ts'

/** A findable comment. */
export interface SearchEntry {
  subjectId: string
  threadId: string
  commentId: string
  authorId: string
  createdAt: number
  /** The plain text (for snippets). */
  text: string
  /** The normalized words the index matches (core/search/query.ts `tokenize`). */
  tokens: string[]
}

/**
 * Only the newest this many matches of a query are ranked and returned (newest: first indexed),
 * so that a query's cost stays bounded however common its words are; a query matching more
 * finds the best of its newest matches.
 */
export const SEARCH_RANKED_MATCHES = 5_000

/** Where a ranked listing continues: after this score and key (opaque to clients). */
export interface SearchCursor {
  score: number
  key: number
  /** The lowest key the listing ranks (fixed by its first page: see {@link SEARCH_RANKED_MATCHES}). */
  floor: number
}

export interface SearchHit {
  subjectId: string
  threadId: string
  commentId: string
  authorId: string
  createdAt: number
  text: string
  /** Rank and key of this hit: pass as `after` to continue after it. */
  cursor: SearchCursor
}

export interface SearchOptions {
  /** Only this subject; null: every subject. */
  subjectId: string | null
  limit: number
  after: SearchCursor | null
}

/** A comment to remove from the index. */
export interface SearchKey {
  subjectId: string
  commentId: string
}

export interface SearchStore {
  /** Puts (replacing) and removes entries, in one transaction. */
  apply(put: readonly SearchEntry[], remove: readonly SearchKey[]): Promise<void>
  /** Replaces every entry of the subject with `entries`, atomically (a rebuild). */
  replaceSubject(subjectId: string, entries: readonly SearchEntry[]): Promise<void>
  /** Matching entries, best first (then by key); every term of the query must match. */
  query(query: SearchQuery, options: SearchOptions): Promise<SearchHit[]>
  /** Every entry of a subject, by comment id (for comparing rebuilds). */
  entries(subjectId: string): Promise<Array<Omit<SearchEntry, 'tokens'>>>
  /** The log seq the document's index was complete for; null when never recorded. */
  mark(documentName: string): Promise<number | null>
  setMark(documentName: string, seq: number): Promise<void>
  /** Comments documents written after their index mark, or written and never marked. */
  documentsToReindex(): Promise<string[]>
  /** Every comments document that was ever written. */
  commentDocuments(): Promise<string[]>
  /** Entries held, and the bytes the index takes (approximate, for benchmarks). */
  stats(): Promise<{ entries: number; bytes: number }>
}
