/**
 * The search index on both backends side by side, in process (no server): a corpus
 * (bench/lib/search-corpus.ts) written into storage, the index built from it as `parley reindex`
 * does, its size per comment, and p95 of a first page of 20 for 1-word, 3-word and prefix queries.
 * PostgreSQL uses a temporary schema on DATABASE_URL (default the local test database).
 * Run: `node bench/search-engines.ts [comments] [subjects]` (Node 24). Prints a table; writes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { parseQuery } from '../core/search/query.ts'
import type { Storage } from '../core/storage/types.ts'
import { reindex } from '../server/search/reindex.ts'
import { PostgresStorage } from '../server/storage/postgres/index.ts'
import { SqliteStorage } from '../server/storage/sqlite/index.ts'
import { queryFrom, random, writeCorpus, type QueryKind } from './lib/search-corpus.ts'
import { distribution } from './lib/stats.ts'

/** Default corpus: comments over subjects (argv overrides). */
const DEFAULT_COMMENTS = 20_000
const DEFAULT_SUBJECTS = 200

/** Queries of each kind. */
const QUERIES = 300

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

async function measure(storage: Storage, comments: number, subjects: number): Promise<Record<string, number>> {
  const corpus = await writeCorpus(storage, subjects, comments)
  const started = performance.now()
  await reindex(storage, null)
  const figures: Record<string, number> = { buildSeconds: (performance.now() - started) / 1000 }
  const stats = await storage.search.stats()
  figures.bytesPerComment = stats.bytes / Math.max(1, stats.entries)
  const next = random(7)
  for (const kind of ['oneWord', 'threeWords', 'prefix'] as const satisfies readonly QueryKind[]) {
    const times: number[] = []
    for (let i = 0; i < QUERIES; i++) {
      const parsed = parseQuery(queryFrom(kind, corpus.texts[Math.floor(next() * corpus.texts.length)] ?? '', next))
      if (!parsed.ok) throw new Error(parsed.error.message)
      const t = performance.now()
      await storage.search.query(parsed.value, { subjectId: null, limit: 20, after: null })
      times.push(performance.now() - t)
    }
    figures[`${kind}P95`] = distribution(times).p95
  }
  return figures
}

const comments = Number(process.argv[2] ?? DEFAULT_COMMENTS)
const subjects = Number(process.argv[3] ?? DEFAULT_SUBJECTS)
const dir = mkdtempSync(path.join(tmpdir(), 'parley-bench-'))
const schema = `parley_bench_${process.pid}_${Date.now()}`
const rows: Array<[string, Record<string, number>]> = []
try {
  const sqlite = SqliteStorage.inDataDir(dir)
  rows.push(['sqlite', await measure(sqlite, comments, subjects)])
  await sqlite.close()
  await adminQuery(`CREATE SCHEMA ${schema}`)
  const url = new URL(DATABASE_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  const postgres = await PostgresStorage.open({ url: url.toString() })
  rows.push(['postgres', await measure(postgres, comments, subjects)])
  await postgres.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
  await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
}
console.log(`${comments} comments over ${subjects} subjects, ${QUERIES} queries of each kind (first page of 20)\n`)
console.log('| backend | index build | bytes per comment | 1 word p95 | 3 words p95 | prefix p95 |')
console.log('|---|---|---|---|---|---|')
for (const [name, f] of rows) {
  const ms = (v: number | undefined) => `${(v ?? Number.NaN).toFixed(1)} ms`
  console.log(
    `| ${name} | ${(f.buildSeconds ?? 0).toFixed(1)} s | ${Math.round(f.bytesPerComment ?? 0)} | ${ms(f.oneWordP95)} | ${ms(f.threeWordsP95)} | ${ms(f.prefixP95)} |`,
  )
}
