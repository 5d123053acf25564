/**
 * The write guard's cost per update, measured in process: typical client updates (a reply, a
 * reaction, a read marker, an edit) checked against a document of realistic size, next to the
 * cost of applying the same update. Run: `node bench/guard.ts` (also part of the figures in
 * docs/PERFORMANCE.md). Then the worst update shapes we know (test/guard/hostile-shapes.ts) at the
 * largest size the limits allow, through the whole decision of a socket update (`judgeUpdate`),
 * next to what Yjs spends applying those that pass. Prints two tables and writes
 * bench/results/guard.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'
import { checkUpdate, Places } from '../extensions/guard/index.ts'
import { ClientRegistry } from '../core/guard/clients.ts'
import { judgeUpdate } from '../core/guard/judge.ts'
import * as limits from '../core/guard/limits.ts'
import { documentStructs } from '../core/guard/update-index.ts'
import { unseenPart } from '../core/documents/updates.ts'
import * as shapes from '../test/guard/hostile-shapes.ts'
import { createThread, editComment, markRead, react, reply, unreact, type WriteContext } from '../protocol/index.ts'

/** Updates measured per kind. */
const ROUNDS = 2_000
/** Threads and comments already in the document. */
const THREADS = 50
const COMMENTS_PER_THREAD = 40

const server = new Y.Doc()
const seed = new Y.Doc()
const seedCtx: WriteContext = { doc: seed, userId: 'seed' }
const threadIds: string[] = []
for (let t = 0; t < THREADS; t++) {
  const { threadId } = createThread(seedCtx, `thread ${t}`)
  threadIds.push(threadId)
  for (let c = 0; c < COMMENTS_PER_THREAD; c++) reply(seedCtx, threadId, `comment ${c} in thread ${t}, a sentence of ordinary length.`)
}
Y.applyUpdate(server, Y.encodeStateAsUpdate(seed))

const client = new Y.Doc()
Y.applyUpdate(client, Y.encodeStateAsUpdate(server))
const ctx: WriteContext = { doc: client, userId: 'ana' }
const owners = new Map<number, string>()
const places = new Places('comments')
const own = reply(ctx, threadIds[0]!, 'ana’s comment to edit').commentId
Y.applyUpdate(server, Y.encodeStateAsUpdate(client, Y.encodeStateVector(server)))
owners.set(client.clientID, 'ana')

function capture(run: () => void): Uint8Array {
  const before = Y.encodeStateVector(client)
  run()
  return Y.encodeStateAsUpdate(client, before)
}

const kinds: Record<string, (i: number) => void> = {
  reply: (i) => reply(ctx, threadIds[i % THREADS]!, `reply number ${i}`),
  reaction: (i) => (i % 2 === 0 ? react : unreact)(ctx, threadIds[0]!, own, '👍'),
  readMarker: (i) => markRead(ctx, threadIds[i % THREADS]!),
  edit: (i) => editComment(ctx, threadIds[0]!, own, `edited ${i}`),
}

interface Row {
  kind: string
  updates: number
  bytes: number
  checkMicros: number
  diffMicros: number
  applyMicros: number
}

const rows: Row[] = []
for (const [kind, write] of Object.entries(kinds)) {
  let check = 0
  let diff = 0
  let apply = 0
  let bytes = 0
  for (let i = 0; i < ROUNDS; i++) {
    const update = capture(() => write(i))
    bytes += update.byteLength
    let t = performance.now()
    const unseen = unseenPart(server, update)
    diff += performance.now() - t
    t = performance.now()
    const verdict = checkUpdate(
      { doc: server, kind: 'comments', actor: { userId: 'ana', role: 'comment' }, places, ownerOf: (c) => owners.get(c), isBlocked: () => false },
      unseen,
    )
    check += performance.now() - t
    if (!verdict.ok) throw new Error(`${kind} refused: ${verdict.error.reason}`)
    t = performance.now()
    Y.applyUpdate(server, update)
    apply += performance.now() - t
  }
  rows.push({
    kind,
    updates: ROUNDS,
    bytes: Math.round(bytes / ROUNDS),
    checkMicros: (check / ROUNDS) * 1000,
    diffMicros: (diff / ROUNDS) * 1000,
    applyMicros: (apply / ROUNDS) * 1000,
  })
}

console.log(`guard cost per update (document: ${THREADS} threads × ${COMMENTS_PER_THREAD} comments; ${ROUNDS} updates per kind; node ${process.version})`)
console.log('kind        bytes  diff µs  check µs  apply µs  check/apply')
for (const r of rows) {
  console.log(
    `${r.kind.padEnd(10)} ${String(r.bytes).padStart(6)} ${r.diffMicros.toFixed(1).padStart(8)} ${r.checkMicros.toFixed(1).padStart(9)} ${r.applyMicros.toFixed(1).padStart(9)} ${(r.checkMicros / r.applyMicros).toFixed(2).padStart(11)}`,
  )
}
interface HostileRow {
  shape: string
  bytes: number
  verdict: string
  /** Best of five runs after two warm-ups, and the first (cold) run. */
  guardMs: number
  coldMs: number
  /** Yjs applying the update to a copy of the document (best of three), when it passes. */
  applyMs: number | null
}

/** The decision on one shape: cold, then the best of five, each on a fresh copy of the payload. */
function judged(shape: shapes.Shape, owned: number[]): HostileRow {
  const owners = new Map(shape.owners)
  for (const client of owned) owners.set(client, shapes.ATTACKER)
  const run = () => {
    const guarded = { kind: 'comments' as const, places: new Places('comments'), clients: new ClientRegistry(new Map(owners)), bytes: 0 }
    const payload = shape.update.slice()
    const started = performance.now()
    const judgement = judgeUpdate(shape.doc, guarded, { userId: shapes.ATTACKER, role: 'comment' }, payload)
    return { ms: performance.now() - started, judgement }
  }
  const cold = run()
  run()
  const best = Math.min(...[run(), run(), run(), run(), run()].map((r) => r.ms))
  let applyMs: number | null = null
  if (cold.judgement.ok) {
    const state = Y.encodeStateAsUpdate(shape.doc)
    applyMs = Infinity
    for (let i = 0; i < 3; i++) {
      const copy = new Y.Doc()
      Y.applyUpdate(copy, state)
      const started = performance.now()
      Y.applyUpdate(copy, shape.update)
      applyMs = Math.min(applyMs, performance.now() - started)
    }
  }
  const verdict = cold.judgement.ok ? 'taken' : `${cold.judgement.error.code}: ${cold.judgement.error.reason}`
  return { shape: shape.name, bytes: shape.update.byteLength, verdict, guardMs: best, coldMs: cold.ms, applyMs }
}

const base = shapes.baseDocument()
const ownedOf = (total: number) => shapes.shapeClients(total).slice(limits.MAX_NEW_CLIENTS_PER_UPDATE)
/** The longest chain of map entries within the budget: each entry counts twice, and entries have their own cap. */
const n = Math.min(Math.floor(limits.MAX_UPDATE_STRUCTS / 2), limits.MAX_UPDATE_ENTRIES)
const hostile: Array<[shapes.Shape, number[]]> = [
  [shapes.chainAcrossClients(base, n, limits.MAX_UPDATE_CLIENTS), ownedOf(limits.MAX_UPDATE_CLIENTS)],
  [shapes.chainAcrossClients(base, n, limits.MAX_NEW_CLIENTS_PER_UPDATE), []],
  [shapes.chainInOneClient(base, n), []],
  [shapes.manyEntries(base, limits.MAX_UPDATE_ENTRIES), []],
  [shapes.manyClients(base, limits.MAX_UPDATE_CLIENTS), ownedOf(limits.MAX_UPDATE_CLIENTS)],
  [shapes.concurrentKeyWrites(base, Math.floor(n / limits.MAX_CONCURRENT_KEY_WRITES), limits.MAX_CONCURRENT_KEY_WRITES), []],
  [shapes.unknownOwnDeleteRanges(base, limits.MAX_UPDATE_DELETE_RANGES + documentStructs(base.doc), shapes.shapeClients(1)[0]!), shapes.shapeClients(1)],
  [shapes.honestDeleteSet(base, 20_000), []],
  // Over the limits: refused, and how fast.
  [shapes.chainAcrossClients(base, 20_000), []],
  [shapes.chainInOneClient(base, 100_000), []],
  [shapes.manyEntries(base, 30_000), []],
  [shapes.manyDeleteRanges(base, 5_000), []],
  [shapes.concurrentKeyWrites(base, 1, 4_000), []],
]
const hostileRows = hostile.map(([shape, owned]) => judged(shape, owned))
console.log(
  `\nworst shapes (budget: ${limits.MAX_UPDATE_STRUCTS} structs, ${limits.MAX_UPDATE_ENTRIES} entries, ${limits.MAX_UPDATE_CLIENTS} client ids, ${limits.MAX_UPDATE_DELETE_RANGES} delete ranges + the document's structs)`,
)
console.log('shape                                                        KiB  guard ms  cold ms  apply ms  verdict')
for (const r of hostileRows) {
  console.log(
    `${r.shape.padEnd(58)} ${(r.bytes / 1024).toFixed(0).padStart(5)} ${r.guardMs.toFixed(1).padStart(9)} ${r.coldMs.toFixed(1).padStart(8)} ${(r.applyMs === null ? '-' : r.applyMs.toFixed(1)).padStart(9)}  ${r.verdict.slice(0, 70)}`,
  )
}

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results')
mkdirSync(out, { recursive: true })
writeFileSync(
  path.join(out, 'guard.json'),
  JSON.stringify(
    { at: new Date().toISOString(), node: process.version, threads: THREADS, commentsPerThread: COMMENTS_PER_THREAD, rows, hostile: hostileRows },
    null,
    2,
  ),
)
