/**
 * Storage backends side by side: append cost per update and compaction time of a ~1 MB document,
 * on SQLite (a temporary directory) and PostgreSQL (a temporary schema on DATABASE_URL, default
 * the local test database). Run: `node bench/storage.ts` (Node 24). Prints a table; writes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import * as Y from 'yjs'
import { mergeUpdates } from '../core/documents/updates.ts'
import { PostgresStorage } from '../server/storage/postgres/index.ts'
import { SqliteStorage } from '../server/storage/sqlite/index.ts'
import type { Storage } from '../core/storage/types.ts'

/** Small updates appended one after another, each awaited (one client typing). */
const SEQUENTIAL_APPENDS = 2_000
/** Appends in flight at once, to different documents (many clients on one instance). */
const PARALLEL_DOCUMENTS = 8
/** Appends per document in the parallel run. */
const PARALLEL_APPENDS_PER_DOCUMENT = 500
/** The big document: this many updates of CHUNK_CHARS characters (~1 MB in all). */
const BIG_UPDATES = 1_000
const CHUNK_CHARS = 1_000
/** Small updates appended after the big snapshot, for the steady-state compaction. */
const STEADY_LOG_ROWS = 500

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

function textUpdates(count: number, chunk: number): Uint8Array[] {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  const text = doc.getText('t')
  for (let i = 0; i < count; i++) text.insert(text.length, String(i % 10).repeat(chunk))
  return updates
}

interface Backend {
  name: string
  open(): Promise<Storage>
  cleanup(): Promise<void>
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-bench-'))
  return {
    name: 'sqlite',
    open: async () => SqliteStorage.inDataDir(dir),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  }
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

async function postgresBackend(): Promise<Backend> {
  const schema = `parley_bench_${process.pid}_${Date.now()}`
  await adminQuery(`CREATE SCHEMA ${schema}`)
  const url = new URL(DATABASE_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return {
    name: 'postgres',
    open: () => PostgresStorage.open({ url: url.toString() }),
    cleanup: () => adminQuery(`DROP SCHEMA ${schema} CASCADE`),
  }
}

interface Figures {
  sequentialMicros: number
  parallelMicros: number
  bigBytes: number
  bigCompactionMs: number
  steadyCompactionMs: number
}

async function measure(storage: Storage): Promise<Figures> {
  const small = textUpdates(SEQUENTIAL_APPENDS, 1)
  let started = performance.now()
  for (const update of small) await storage.documents.append('comments/sequential', update)
  const sequentialMicros = ((performance.now() - started) * 1000) / small.length

  started = performance.now()
  await Promise.all(
    Array.from({ length: PARALLEL_DOCUMENTS }, async (_, d) => {
      for (const update of small.slice(0, PARALLEL_APPENDS_PER_DOCUMENT)) await storage.documents.append(`comments/parallel-${d}`, update)
    }),
  )
  const parallelMicros = ((performance.now() - started) * 1000) / (PARALLEL_DOCUMENTS * PARALLEL_APPENDS_PER_DOCUMENT)

  // ~1 MB of log rows merged into a first snapshot.
  const big = textUpdates(BIG_UPDATES, CHUNK_CHARS)
  for (const update of big) await storage.documents.append('comments/big', update)
  started = performance.now()
  const first = await storage.documents.compact('comments/big', mergeUpdates)
  const bigCompactionMs = performance.now() - started

  // Steady state: the ~1 MB snapshot plus a log of small rows.
  const more = textUpdates(STEADY_LOG_ROWS, 1)
  for (const update of more) await storage.documents.append('comments/big', update)
  started = performance.now()
  await storage.documents.compact('comments/big', mergeUpdates)
  const steadyCompactionMs = performance.now() - started

  return { sequentialMicros, parallelMicros, bigBytes: first.snapshotBytes, bigCompactionMs, steadyCompactionMs }
}

// Warm the merge up once, so the first backend measured does not pay for JIT compilation, and
// time the merge alone: what compaction costs beyond it is the backend's reading and writing.
const bigParts = textUpdates(BIG_UPDATES, CHUNK_CHARS)
mergeUpdates(bigParts)
let mergeStarted = performance.now()
const bigSnapshot = mergeUpdates(bigParts)
const mergeBigMs = performance.now() - mergeStarted
const steadyParts = [bigSnapshot, ...textUpdates(STEADY_LOG_ROWS, 1)]
mergeStarted = performance.now()
mergeUpdates(steadyParts)
const mergeSteadyMs = performance.now() - mergeStarted
console.log(`merge alone (no storage): 1 MB log ${mergeBigMs.toFixed(1)} ms, 1 MB snapshot + ${STEADY_LOG_ROWS} rows ${mergeSteadyMs.toFixed(1)} ms`)

const rows: Array<Record<string, string>> = []
for (const backend of [sqliteBackend(), await postgresBackend()]) {
  const storage = await backend.open()
  try {
    const figures = await measure(storage)
    rows.push({
      backend: backend.name,
      'append µs (1 writer)': figures.sequentialMicros.toFixed(0),
      [`append µs (${PARALLEL_DOCUMENTS} docs in parallel)`]: figures.parallelMicros.toFixed(0),
      'snapshot KB': (figures.bigBytes / 1024).toFixed(0),
      'compact 1 MB log ms': figures.bigCompactionMs.toFixed(1),
      [`compact 1 MB snapshot + ${STEADY_LOG_ROWS} rows ms`]: figures.steadyCompactionMs.toFixed(1),
    })
  } finally {
    await storage.close()
    await backend.cleanup()
  }
}
console.table(rows)
