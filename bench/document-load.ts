/**
 * Big comments documents, up to the 32 MiB document cap: how long one takes to load, and what a
 * REST write to it costs.
 *
 * For each size a realistic comments document is built with the schema writers (threads with
 * metadata, replies of 40-600 characters, reactions, read markers, subscriptions, some edits and
 * soft deletions, 300 users, sessions of 25 writes each under its own client id), stored as
 * a compacted snapshot plus a tail of {@link LOG_TAIL} log rows, and measured:
 *
 * - storage: `documents.load` (SQLite; PostgreSQL too with `--postgres`), and `Y.applyUpdate` of
 *   the snapshot and the rows into a new document (what durability's onLoadDocument does);
 * - server: a real Parley server on that storage; a real provider connects while nothing holds
 *   the document, until synced (authentication, load, every extension's afterLoad, sync step 2,
 *   and the provider applying it: server and provider share this process); the load hooks' share
 *   of it comes from `parley_hook_duration_seconds`;
 * - REST: `POST …/threads/:threadId/comments`: while nothing holds the document (load, write,
 *   store, unload), the first one while a provider holds it, and the steady state after that.
 *
 * Run: `node bench/document-load.ts [--sizes=1,10,30,31.5] [--samples=5] [--postgres]` (Node 24,
 * sizes in MiB of the encoded document). Prints tables; writes nothing outside a temp directory.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import pg from 'pg'
import * as Y from 'yjs'
import { mergeUpdates } from '../core/documents/updates.ts'
import { MAX_DOCUMENT_BYTES } from '../core/guard/limits.ts'
import {
  commentsDocumentName,
  createThread,
  deleteComment,
  editComment,
  markRead,
  react,
  reply,
  setSubscription,
  type WriteContext,
} from '../protocol/index.ts'
import { signToken } from '../server/auth/sign.ts'
import { createParleyServer, type ParleyServer } from '../server/server.ts'
import { PostgresStorage } from '../server/storage/postgres/index.ts'
import { SqliteStorage } from '../server/storage/sqlite/index.ts'
import type { Storage } from '../core/storage/types.ts'

const MIB = 1024 * 1024
/** Log rows stored after the snapshot (a document between two compactions). */
const LOG_TAIL = 100
/** Users writing in the document. */
const USERS = 300
/** Writes per session: each session has its own client id and sends its writes as one update. */
const WRITES_PER_SESSION = 25
/** Repetitions of each load measurement (the median is printed). */
const LOAD_RUNS = 3
/** Nothing here may take longer than this. */
const STEP_TIMEOUT_MS = 120_000
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const SUBJECT = 'bench-big'

function option(name: string): string | undefined {
  return process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
}
const SIZES_MIB = (option('sizes') ?? '1,10,30,31.5').split(',').map(Number)
const SAMPLES = Number(option('samples') ?? 5)
const WITH_POSTGRES = process.argv.includes('--postgres')

const WORDS = ['looks', 'good', 'to', 'me', 'but', 'the', 'second', 'paragraph', 'needs', 'a', 'source', 'and', 'maybe', 'shorter', 'agreed', 'see', 'above']

/** A deterministic pseudo-random sequence (xorshift32), so every run builds the same document. */
function randomFrom(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x1_0000_0000
  }
}

function text(random: () => number, min: number, max: number): string {
  const length = min + Math.floor(random() * (max - min))
  let out = ''
  while (out.length < length) out += `${WORDS[Math.floor(random() * WORDS.length)] ?? 'x'} `
  return out.slice(0, length).trim() || 'x'
}

interface BuiltDocument {
  snapshot: Uint8Array
  tail: Uint8Array[]
  threads: number
  comments: number
  clients: number
  /** One thread id, for the REST replies. */
  threadId: string
  buildMs: number
}

/** A realistic comments document whose encoded state is at least `targetBytes`. */
function buildDocument(targetBytes: number): BuiltDocument {
  const started = performance.now()
  const random = randomFrom(targetBytes)
  const doc = new Y.Doc()
  let written = 0
  let logging: Uint8Array[] | null = null
  doc.on('update', (update: Uint8Array) => {
    written += update.byteLength
    logging?.push(update)
  })
  const threads: string[] = []
  const own = new Map<string, Array<{ threadId: string; commentId: string }>>()
  let comments = 0
  const newSession = () => {
    doc.clientID = Math.floor(random() * 0xffff_ffff)
  }
  /** One session: a new client id, and its writes as one transaction (one update, as a provider batches them). */
  const session = () => {
    newSession()
    doc.transact(() => {
      for (let i = 0; i < WRITES_PER_SESSION; i++) step()
    })
  }
  const step = () => {
    const userId = `user${Math.floor(random() * USERS)}`
    const ctx: WriteContext = { doc, userId }
    const roll = random()
    const threadId = threads[Math.floor(random() * threads.length)]
    const mine = own.get(userId) ?? []
    if (threadId === undefined || roll < 0.08) {
      const created = createThread(ctx, text(random, 40, 600), { anchor: `p${Math.floor(random() * 500)}`, kind: 'review' })
      threads.push(created.threadId)
      mine.push(created)
      own.set(userId, mine)
      comments++
    } else if (roll < 0.7) {
      const { commentId } = reply(ctx, threadId, text(random, 40, 600))
      mine.push({ threadId, commentId })
      own.set(userId, mine)
      comments++
    } else if (roll < 0.8 && mine.length > 0) {
      const target = mine[Math.floor(random() * mine.length)]!
      react(ctx, target.threadId, target.commentId, ['👍', '🎉', '👀'][Math.floor(random() * 3)] ?? '👍')
    } else if (roll < 0.92) {
      markRead(ctx, threadId)
    } else if (roll < 0.96) {
      setSubscription(ctx, threadId, random() < 0.8)
    } else if (roll < 0.985 && mine.length > 0) {
      const target = mine[Math.floor(random() * mine.length)]!
      editComment(ctx, target.threadId, target.commentId, text(random, 40, 600))
    } else if (mine.length > 0) {
      const target = mine.splice(Math.floor(random() * mine.length), 1)[0]!
      deleteComment(ctx, target.threadId, target.commentId)
    }
  }
  // The sum of updates outgrows the encoded state; encode only once that sum passes the target,
  // then write what is still missing again (the gap shrinks geometrically).
  let encoded = 0
  while (encoded < targetBytes) {
    while (written < targetBytes) session()
    encoded = Y.encodeStateAsUpdate(doc).byteLength
    written = encoded
  }
  const snapshot = Y.encodeStateAsUpdate(doc)
  // The log tail: single writes, each its own update, from a few sessions.
  logging = []
  const tail = logging
  while (tail.length < LOG_TAIL) {
    if (tail.length % 10 === 0) newSession()
    step()
  }
  const clients = Y.decodeStateVector(Y.encodeStateVector(doc)).size
  doc.destroy()
  return { snapshot, tail, threads: threads.length, comments, clients, threadId: threads[0]!, buildMs: performance.now() - started }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

async function seed(storage: Storage, name: string, built: BuiltDocument): Promise<void> {
  await storage.documents.append(name, built.snapshot)
  await storage.documents.compact(name, mergeUpdates)
  for (const row of built.tail) await storage.documents.append(name, row)
}

/** Median ms of `documents.load`, and of applying what it returned to a new document. */
async function measureLoad(storage: Storage, name: string): Promise<{ loadMs: number; applyMs: number; rows: number }> {
  const loads: number[] = []
  const applies: number[] = []
  let rows = 0
  for (let i = 0; i < LOAD_RUNS; i++) {
    let t = performance.now()
    const stored = await storage.documents.load(name)
    loads.push(performance.now() - t)
    rows = stored.log.length
    t = performance.now()
    const doc = new Y.Doc()
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
    for (const row of stored.log) Y.applyUpdate(doc, row.data)
    applies.push(performance.now() - t)
    doc.destroy()
  }
  return { loadMs: median(loads), applyMs: median(applies), rows }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

interface Holder {
  synced: Promise<number>
  close(): void
}

/** A real provider; `synced` resolves with the ms from attaching to the first sync. */
function connect(server: ParleyServer, token: string): Holder {
  const socket = new HocuspocusProviderWebsocket({ url: server.webSocketUrl })
  const started = performance.now()
  let provider: HocuspocusProvider | undefined
  const synced = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('provider did not sync')), STEP_TIMEOUT_MS)
    provider = new HocuspocusProvider({
      websocketProvider: socket,
      name: commentsDocumentName(SUBJECT),
      token,
      onSynced: ({ state }) => {
        if (!state) return
        clearTimeout(timer)
        resolve(performance.now() - started)
      },
    })
    provider.attach()
  })
  return {
    synced,
    close() {
      provider?.destroy()
      socket.destroy()
    },
  }
}

async function postReply(server: ParleyServer, token: string, threadId: string, i: number): Promise<number> {
  const started = performance.now()
  const response = await fetch(`${server.httpUrl}/api/v1/subjects/${SUBJECT}/threads/${threadId}/comments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ body: `A reply over REST, number ${i}, of an ordinary length for a comment.` }),
  })
  const answer = await response.text()
  if (response.status !== 201) throw new Error(`REST reply answered ${response.status}: ${answer}`)
  return performance.now() - started
}

/** Mean ms per call of the load hooks, per extension (`parley_hook_duration_seconds`), e.g. `durability.onLoadDocument`. */
async function loadHookMeans(server: ParleyServer): Promise<Map<string, number>> {
  const metric = server.metrics.registry.getSingleMetric('parley_hook_duration_seconds')
  const sums = new Map<string, { sum: number; count: number }>()
  for (const value of metric ? (await metric.get()).values : []) {
    const { extension, hook } = value.labels
    if (hook !== 'onLoadDocument' && hook !== 'afterLoadDocument') continue
    const key = `${String(extension).replace(/^parley-/, '')}.${hook}`
    const entry = sums.get(key) ?? { sum: 0, count: 0 }
    // Histogram values carry the series name (`…_sum`, `…_count`, `…_bucket`).
    const series = 'metricName' in value && typeof value.metricName === 'string' ? value.metricName : ''
    if (series.endsWith('_sum')) entry.sum += value.value
    if (series.endsWith('_count')) entry.count += value.value
    sums.set(key, entry)
  }
  return new Map([...sums].filter(([, e]) => e.count > 0).map(([key, e]) => [key, (e.sum / e.count) * 1000]))
}

interface ServerFigures {
  /** Load hooks slower than 5 ms on average during the cold syncs, slowest first. */
  loadHooks: string
  coldSyncMs: number
  restColdMs: number
  restFirstHeldMs: number
  restHeldMs: number
}

async function measureServer(dataDir: string, built: BuiltDocument): Promise<ServerFigures> {
  const secret = 'bench-document-load-secret-0123456789'
  const server = await createParleyServer({ port: 0, host: '127.0.0.1', logLevel: 'silent', dataDir, jwt: { kind: 'secret', secret } })
  await server.listen()
  const name = commentsDocumentName(SUBJECT)
  const unloaded = () => until(() => !server.hocuspocus.documents.has(name) && server.hocuspocus.getDocumentsCount() === 0, 'the document unloads')
  try {
    const token = await signToken({ sub: 'reader', access: { '*': 'comment' } }, secret)
    const writer = await signToken({ sub: 'rest-writer', access: { '*': 'comment' } }, secret)
    const syncs: number[] = []
    for (let i = 0; i < LOAD_RUNS; i++) {
      const holder = connect(server, token)
      syncs.push(await holder.synced)
      holder.close()
      await unloaded()
    }
    const hooks = [...(await loadHookMeans(server))].filter(([, ms]) => ms >= 5).sort((a, b) => b[1] - a[1])
    const loadHooks = hooks.map(([key, ms]) => `${key} ${fmt(ms)}`).join(', ')
    const cold: number[] = []
    for (let i = 0; i < Math.min(SAMPLES, 3); i++) {
      cold.push(await postReply(server, writer, built.threadId, i))
      await unloaded()
    }
    const holder = connect(server, token)
    await holder.synced
    const first = await postReply(server, writer, built.threadId, 100)
    const held: number[] = []
    for (let i = 0; i < SAMPLES; i++) held.push(await postReply(server, writer, built.threadId, 200 + i))
    holder.close()
    await unloaded()
    return { loadHooks, coldSyncMs: median(syncs), restColdMs: median(cold), restFirstHeldMs: first, restHeldMs: median(held) }
  } finally {
    await server.close()
  }
}

async function withPostgres<T>(run: (storage: Storage) => Promise<T>): Promise<T> {
  const schema = `parley_bench_${Math.random().toString(16).slice(2, 10)}`
  const admin = new pg.Client({ connectionString: DATABASE_URL })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  const url = new URL(DATABASE_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  const storage = await PostgresStorage.open({ url: url.toString() })
  try {
    return await run(storage)
  } finally {
    await storage.close()
    await admin.query(`DROP SCHEMA ${schema} CASCADE`)
    await admin.end()
  }
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`)
const mib = (bytes: number) => `${(bytes / MIB).toFixed(2)} MiB`

const loadRows: string[][] = []
const restRows: string[][] = []
const hookRows: string[][] = []
for (const sizeMib of SIZES_MIB) {
  const target = Math.min(Math.round(sizeMib * MIB), MAX_DOCUMENT_BYTES - 64 * 1024)
  const built = buildDocument(target)
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-bench-load-'))
  try {
    const storage = SqliteStorage.inDataDir(dataDir)
    await seed(storage, commentsDocumentName(SUBJECT), built)
    const sqlite = await measureLoad(storage, commentsDocumentName(SUBJECT))
    const storedBytes = await storage.documents.storedBytes(commentsDocumentName(SUBJECT))
    await storage.close()
    const postgres = WITH_POSTGRES
      ? await withPostgres(async (pgStorage) => {
          await seed(pgStorage, commentsDocumentName(SUBJECT), built)
          return measureLoad(pgStorage, commentsDocumentName(SUBJECT))
        })
      : undefined
    const server = await measureServer(dataDir, built)
    loadRows.push([
      mib(built.snapshot.byteLength),
      `${built.threads} / ${built.comments} / ${built.clients}`,
      mib(storedBytes),
      fmt(sqlite.loadMs),
      postgres ? fmt(postgres.loadMs) : '-',
      fmt(sqlite.applyMs),
      fmt(server.coldSyncMs),
    ])
    restRows.push([mib(built.snapshot.byteLength), fmt(server.restColdMs), fmt(server.restFirstHeldMs), fmt(server.restHeldMs)])
    hookRows.push([mib(built.snapshot.byteLength), server.loadHooks])
    console.error(
      `${mib(built.snapshot.byteLength)} built in ${fmt(built.buildMs)}: ${JSON.stringify({ loadRow: loadRows.at(-1), restRow: restRows.at(-1), hooks: server.loadHooks })}`,
    )
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}

console.log(`\nLoad (median of ${LOAD_RUNS}; ${LOG_TAIL} log rows after the snapshot; cap ${mib(MAX_DOCUMENT_BYTES)})\n`)
console.log(
  table(['document', 'threads / comments / clients', 'stored', 'SQLite load', 'PostgreSQL load', 'Y.applyUpdate', 'provider synced (cold)'], loadRows),
)
console.log('\nLoad hooks during the cold syncs (mean per load, awaited part only; work they start in the background is not in it)\n')
console.log(table(['document', 'hooks of 5 ms or more'], hookRows))
console.log(`\nREST reply (POST …/threads/:threadId/comments; median of ${SAMPLES} held, ${Math.min(SAMPLES, 3)} cold)\n`)
console.log(table(['document', 'nothing holds it', 'first while held', 'held, steady'], restRows))
