/**
 * The comment search index in SQLite: `search_comments` holds each findable comment, and the
 * contentless FTS5 table `search_fts` (same rowid) its normalized words (column `terms`) and its
 * subject id in hex (column `subject`, so that a subject filter is one more index term), ranked
 * by bm25 over `terms` (lower is better). Queries are compiled by core/search/compile.ts from
 * parsed terms only; only the newest {@link SEARCH_RANKED_MATCHES} matches are ranked.
 */
import type Database from 'better-sqlite3'
import { toFts5 } from '../../../core/search/compile.ts'
import type { SearchQuery } from '../../../core/search/query.ts'
import { SEARCH_RANKED_MATCHES } from '../../../core/storage/search-types.ts'
import type { SearchEntry, SearchHit, SearchKey, SearchOptions, SearchStore } from '../../../core/storage/types.ts'

interface HitRow {
  id: number
  subject_id: string
  thread_id: string
  comment_id: string
  author_id: string
  created_at: number
  body: string
  score: number
}

/** bm25 over `terms` only (the `subject` column weighs nothing). */
const SCORE = 'bm25(search_fts, 1.0, 0.0)'

/** The subject as one index token: its id in hex (ids hold punctuation the tokenizer splits on). */
function subjectToken(subjectId: string): string {
  return Buffer.from(subjectId, 'utf8').toString('hex')
}

/** Documents named `comments/…`: `name >= 'comments/' AND name < 'comments0'` (an index range). */
const COMMENTS_RANGE = "name >= 'comments/' AND name < 'comments0'"

export class SqliteSearchStore implements SearchStore {
  private readonly s
  private readonly applyTransaction: (put: readonly SearchEntry[], remove: readonly SearchKey[]) => void
  private readonly replaceTransaction: (subjectId: string, entries: readonly SearchEntry[]) => void
  /** The first page of a query, and the pages after a cursor. */
  private readonly ranked: Database.Statement<[Record<string, unknown>], HitRow>
  private readonly rankedAfter: Database.Statement<[Record<string, unknown>], HitRow>

  constructor(db: Database.Database) {
    const ranked = (keyset: string) =>
      db.prepare<[Record<string, unknown>], HitRow>(
        `SELECT c.id, c.subject_id, c.thread_id, c.comment_id, c.author_id, c.created_at, c.body, f.score FROM (
          SELECT rowid, ${SCORE} AS score FROM search_fts WHERE search_fts MATCH @match AND rowid >= @floor ${keyset}
          ORDER BY score, rowid LIMIT @limit
        ) f JOIN search_comments c ON c.id = f.rowid ORDER BY f.score, f.rowid`,
      )
    this.ranked = ranked('')
    this.rankedAfter = ranked(`AND (${SCORE} > @score OR (${SCORE} = @score AND rowid > @key))`)
    const s = {
      find: db.prepare<[string, string], { id: number }>('SELECT id FROM search_comments WHERE subject_id = ? AND comment_id = ?'),
      deleteRow: db.prepare<[number]>('DELETE FROM search_comments WHERE id = ?'),
      deleteFts: db.prepare<[number]>('DELETE FROM search_fts WHERE rowid = ?'),
      insertRow: db.prepare<[string, string, string, string, number, string], { id: number }>(
        'INSERT INTO search_comments (subject_id, comment_id, thread_id, author_id, created_at, body) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
      ),
      updateRow: db.prepare<[string, string, number, string, number]>(
        'UPDATE search_comments SET thread_id = ?, author_id = ?, created_at = ?, body = ? WHERE id = ?',
      ),
      insertFts: db.prepare<[number, string, string]>('INSERT INTO search_fts (rowid, terms, subject) VALUES (?, ?, ?)'),
      floor: db.prepare<[{ match: string; offset: number }], { rowid: number }>(
        'SELECT rowid FROM search_fts WHERE search_fts MATCH @match ORDER BY rowid DESC LIMIT 1 OFFSET @offset',
      ),
      subjectIds: db.prepare<[string], { id: number }>('SELECT id FROM search_comments WHERE subject_id = ?'),
      entries: db.prepare<[string], HitRow>('SELECT *, 0 AS score FROM search_comments WHERE subject_id = ? ORDER BY comment_id'),
      mark: db.prepare<[string], { seq: number }>('SELECT seq FROM search_marks WHERE document = ?'),
      setMark: db.prepare<[string, number, number]>(
        'INSERT INTO search_marks (document, seq, updated_at) VALUES (?, ?, ?) ON CONFLICT (document) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at',
      ),
      heads: db.prepare<[], { name: string; head: number }>(
        `SELECT name, MAX(head) AS head FROM (
           SELECT name, MAX(seq) AS head FROM document_log WHERE ${COMMENTS_RANGE} GROUP BY name
           UNION ALL SELECT name, upto_seq AS head FROM document_snapshots WHERE ${COMMENTS_RANGE}
         ) GROUP BY name ORDER BY name`,
      ),
      marks: db.prepare<[], { document: string; seq: number }>('SELECT document, seq FROM search_marks'),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM search_comments'),
      bytes: db.prepare<[], { bytes: number | null }>(
        "SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name = 'search_comments' OR name LIKE 'search_fts%' OR name LIKE 'sqlite_autoindex_search_comments%'",
      ),
    }
    this.s = s
    /**
     * The index writes of one transaction, made after its row writes: any other write statement
     * makes FTS5 flush the terms it holds in memory into a segment of their own, so interleaving
     * them cost a segment (and its merging) per comment, about 5 times the row insert (measured).
     * Kept in order: a rowid freed by a removal may be given to a new row of the same transaction.
     */
    type IndexWrite = { id: number; insert: { terms: string; subject: string } | null }
    const put = (entry: SearchEntry, index: IndexWrite[]) => {
      const found = s.find.get(entry.subjectId, entry.commentId)
      const insert = { terms: entry.tokens.join(' '), subject: subjectToken(entry.subjectId) }
      if (found) {
        s.updateRow.run(entry.threadId, entry.authorId, entry.createdAt, entry.text, found.id)
        index.push({ id: found.id, insert: null }, { id: found.id, insert })
        return
      }
      const row = s.insertRow.get(entry.subjectId, entry.commentId, entry.threadId, entry.authorId, entry.createdAt, entry.text)
      if (row) index.push({ id: row.id, insert })
    }
    const removeId = (id: number, index: IndexWrite[]) => {
      s.deleteRow.run(id)
      index.push({ id, insert: null })
    }
    const writeIndex = (index: readonly IndexWrite[]) => {
      for (const { id, insert } of index) {
        if (insert) s.insertFts.run(id, insert.terms, insert.subject)
        else s.deleteFts.run(id)
      }
    }
    this.applyTransaction = db
      .transaction((puts: readonly SearchEntry[], removes: readonly SearchKey[]) => {
        const index: IndexWrite[] = []
        for (const key of removes) {
          const found = s.find.get(key.subjectId, key.commentId)
          if (found) removeId(found.id, index)
        }
        for (const entry of puts) put(entry, index)
        writeIndex(index)
      })
      .immediate.bind(null) as typeof this.applyTransaction
    this.replaceTransaction = db
      .transaction((subjectId: string, entries: readonly SearchEntry[]) => {
        const index: IndexWrite[] = []
        for (const row of s.subjectIds.all(subjectId)) removeId(row.id, index)
        for (const entry of entries) put(entry, index)
        writeIndex(index)
      })
      .immediate.bind(null) as typeof this.replaceTransaction
  }

  async apply(put: readonly SearchEntry[], remove: readonly SearchKey[]): Promise<void> {
    if (put.length === 0 && remove.length === 0) return
    this.applyTransaction(put, remove)
  }

  async replaceSubject(subjectId: string, entries: readonly SearchEntry[]): Promise<void> {
    this.replaceTransaction(subjectId, entries)
  }

  async query(query: SearchQuery, options: SearchOptions): Promise<SearchHit[]> {
    const terms = toFts5(query)
    if (terms === null) return []
    const match = options.subjectId === null ? `terms : (${terms})` : `terms : (${terms}) AND subject : "${subjectToken(options.subjectId)}"`
    const floor = options.after?.floor ?? this.s.floor.get({ match, offset: SEARCH_RANKED_MATCHES - 1 })?.rowid ?? 0
    const rows = (options.after ? this.rankedAfter : this.ranked).all({
      match,
      floor,
      score: options.after?.score ?? 0,
      key: options.after?.key ?? 0,
      limit: options.limit,
    })
    return rows.map((row) => ({
      subjectId: row.subject_id,
      threadId: row.thread_id,
      commentId: row.comment_id,
      authorId: row.author_id,
      createdAt: row.created_at,
      text: row.body,
      cursor: { score: row.score, key: row.id, floor },
    }))
  }

  async entries(subjectId: string): Promise<Array<Omit<SearchEntry, 'tokens'>>> {
    return this.s.entries.all(subjectId).map((row) => ({
      subjectId: row.subject_id,
      threadId: row.thread_id,
      commentId: row.comment_id,
      authorId: row.author_id,
      createdAt: row.created_at,
      text: row.body,
    }))
  }

  async mark(documentName: string): Promise<number | null> {
    return this.s.mark.get(documentName)?.seq ?? null
  }

  async setMark(documentName: string, seq: number): Promise<void> {
    this.s.setMark.run(documentName, seq, Date.now())
  }

  async documentsToReindex(): Promise<string[]> {
    const marks = new Map(this.s.marks.all().map((row) => [row.document, row.seq]))
    return this.s.heads
      .all()
      .filter((row) => row.head > (marks.get(row.name) ?? -1))
      .map((row) => row.name)
  }

  async commentDocuments(): Promise<string[]> {
    return this.s.heads.all().map((row) => row.name)
  }

  async stats(): Promise<{ entries: number; bytes: number }> {
    return { entries: this.s.count.get()?.n ?? 0, bytes: this.s.bytes.get()?.bytes ?? 0 }
  }
}
