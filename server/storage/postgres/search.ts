/**
 * The comment search index in PostgreSQL: `search_comments` holds each findable comment with its
 * normalized words as a `tsvector` ('simple' configuration: no stemming, like FTS5's unicode61),
 * under a GIN index, ranked by `ts_rank` (higher is better). Queries are compiled by
 * core/search/compile.ts from parsed terms only, and passed as a parameter.
 */
import type { PoolClient } from 'pg'
import { toTsquery, tsvectorText } from '../../../core/search/compile.ts'
import type { SearchQuery } from '../../../core/search/query.ts'
import { SEARCH_RANKED_MATCHES } from '../../../core/storage/search-types.ts'
import type { SearchEntry, SearchHit, SearchKey, SearchOptions, SearchStore } from '../../../core/storage/types.ts'
import { toNumber, type PostgresPool } from './pool.ts'

interface EntryRow {
  id: string
  subject_id: string
  thread_id: string
  comment_id: string
  author_id: string
  created_at: string
  body: string
  score: number
}

const PUT = `INSERT INTO search_comments (subject_id, comment_id, thread_id, author_id, created_at, body, terms)
  VALUES ($1, $2, $3, $4, $5, $6, to_tsvector('simple', $7))
  ON CONFLICT (subject_id, comment_id) DO UPDATE SET thread_id = excluded.thread_id, author_id = excluded.author_id,
    created_at = excluded.created_at, body = excluded.body, terms = excluded.terms`

/** Comments documents and their heads (the last seq in the log, or what the snapshot merged). */
const HEADS = `SELECT name, MAX(head) AS head FROM (
    SELECT name, MAX(seq) AS head FROM document_log WHERE name >= 'comments/' AND name < 'comments0' GROUP BY name
    UNION ALL SELECT name, upto_seq AS head FROM document_snapshots WHERE name >= 'comments/' AND name < 'comments0'
  ) d GROUP BY name ORDER BY name`

async function put(client: PoolClient, entry: SearchEntry): Promise<void> {
  await client.query(PUT, [entry.subjectId, entry.commentId, entry.threadId, entry.authorId, entry.createdAt, entry.text, tsvectorText(entry.tokens)])
}

export class PostgresSearchStore implements SearchStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  async apply(puts: readonly SearchEntry[], removes: readonly SearchKey[]): Promise<void> {
    if (puts.length === 0 && removes.length === 0) return
    await this.db.transaction(async (client) => {
      for (const key of removes) await client.query('DELETE FROM search_comments WHERE subject_id = $1 AND comment_id = $2', [key.subjectId, key.commentId])
      for (const entry of puts) await put(client, entry)
    })
  }

  async replaceSubject(subjectId: string, entries: readonly SearchEntry[]): Promise<void> {
    await this.db.transaction(async (client) => {
      await client.query('DELETE FROM search_comments WHERE subject_id = $1', [subjectId])
      for (const entry of entries) await put(client, entry)
    })
  }

  async query(query: SearchQuery, options: SearchOptions): Promise<SearchHit[]> {
    const tsquery = toTsquery(query)
    if (tsquery === null) return []
    const values: unknown[] = [tsquery, options.limit]
    const matches = ["c.terms @@ to_tsquery('simple', $1)"]
    if (options.subjectId !== null) {
      values.push(options.subjectId)
      matches.push(`c.subject_id = $${values.length}`)
    }
    const keyset: string[] = []
    if (options.after) {
      // The floor the first page fixed, and after the last result.
      values.push(options.after.floor, options.after.score, options.after.key)
      const [floor, score, key] = [`$${values.length - 2}::bigint`, `$${values.length - 1}::float8`, `$${values.length}::bigint`]
      matches.push(`c.id >= ${floor}`)
      keyset.push(`WHERE r.score < ${score} OR (r.score = ${score} AND r.id > ${key})`)
    }
    // Only the newest matches are ranked: one pass finds them, then ranks them.
    const newest = options.after ? '' : `ORDER BY c.id DESC LIMIT ${SEARCH_RANKED_MATCHES}`
    const rows = await this.db.query<EntryRow & { floor: string }>(
      `WITH m AS (SELECT c.id, c.terms FROM search_comments c WHERE ${matches.join(' AND ')} ${newest}),
            r AS (SELECT m.id, ts_rank(m.terms, to_tsquery('simple', $1))::float8 AS score FROM m)
       SELECT c.id, c.subject_id, c.thread_id, c.comment_id, c.author_id, c.created_at, c.body, r.score,
              CASE WHEN (SELECT COUNT(*) FROM m) >= ${SEARCH_RANKED_MATCHES} THEN (SELECT MIN(id) FROM m) ELSE 0 END AS floor
       FROM r JOIN search_comments c ON c.id = r.id ${keyset.join('')}
       ORDER BY r.score DESC, r.id LIMIT $2`,
      values,
    )
    return rows.map((row) => ({
      subjectId: row.subject_id,
      threadId: row.thread_id,
      commentId: row.comment_id,
      authorId: row.author_id,
      createdAt: toNumber(row.created_at),
      text: row.body,
      cursor: { score: row.score, key: toNumber(row.id), floor: options.after?.floor ?? toNumber(row.floor) },
    }))
  }

  async entries(subjectId: string): Promise<Array<Omit<SearchEntry, 'tokens'>>> {
    const rows = await this.db.query<EntryRow>('SELECT * FROM search_comments WHERE subject_id = $1 ORDER BY comment_id COLLATE "C"', [subjectId])
    return rows.map((row) => ({
      subjectId: row.subject_id,
      threadId: row.thread_id,
      commentId: row.comment_id,
      authorId: row.author_id,
      createdAt: toNumber(row.created_at),
      text: row.body,
    }))
  }

  async mark(documentName: string): Promise<number | null> {
    const rows = await this.db.query<{ seq: string }>('SELECT seq FROM search_marks WHERE document = $1', [documentName])
    const seq = rows[0]?.seq
    return seq === undefined ? null : toNumber(seq)
  }

  async setMark(documentName: string, seq: number): Promise<void> {
    await this.db.query(
      `INSERT INTO search_marks (document, seq, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (document) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`,
      [documentName, seq, Date.now()],
    )
  }

  async documentsToReindex(): Promise<string[]> {
    const rows = await this.db.query<{ name: string }>(
      `SELECT h.name FROM (${HEADS}) h LEFT JOIN search_marks m ON m.document = h.name WHERE h.head > COALESCE(m.seq, -1) ORDER BY h.name`,
    )
    return rows.map((row) => row.name)
  }

  async commentDocuments(): Promise<string[]> {
    return (await this.db.query<{ name: string }>(HEADS)).map((row) => row.name)
  }

  async stats(): Promise<{ entries: number; bytes: number }> {
    const rows = await this.db.query<{ entries: string; bytes: string }>(
      `SELECT (SELECT COUNT(*) FROM search_comments) AS entries, pg_total_relation_size('search_comments') AS bytes`,
    )
    return { entries: toNumber(rows[0]?.entries ?? 0), bytes: toNumber(rows[0]?.bytes ?? 0) }
  }
}
