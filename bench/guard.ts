/**
 * The write guard's cost per update, measured in process: typical client updates (a reply, a
 * reaction, a read marker, an edit) checked against a document of realistic size, next to the
 * cost of applying the same update. Run: `node bench/guard.ts` (also part of the figures in
 * docs/PERFORMANCE.md). Prints a table and writes bench/results/guard.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'
import { checkUpdate, Places } from '../extensions/guard/index.ts'
import { unseenPart } from '../extensions/durability/updates.ts'
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
    if (!verdict.ok) throw new Error(`${kind} refused: ${verdict.reason}`)
    t = performance.now()
    Y.applyUpdate(server, update)
    apply += performance.now() - t
  }
  rows.push({ kind, updates: ROUNDS, bytes: Math.round(bytes / ROUNDS), checkMicros: (check / ROUNDS) * 1000, diffMicros: (diff / ROUNDS) * 1000, applyMicros: (apply / ROUNDS) * 1000 })
}

console.log(`guard cost per update (document: ${THREADS} threads × ${COMMENTS_PER_THREAD} comments; ${ROUNDS} updates per kind; node ${process.version})`)
console.log('kind        bytes  diff µs  check µs  apply µs  check/apply')
for (const r of rows) {
  console.log(`${r.kind.padEnd(10)} ${String(r.bytes).padStart(6)} ${r.diffMicros.toFixed(1).padStart(8)} ${r.checkMicros.toFixed(1).padStart(9)} ${r.applyMicros.toFixed(1).padStart(9)} ${(r.checkMicros / r.applyMicros).toFixed(2).padStart(11)}`)
}
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results')
mkdirSync(out, { recursive: true })
writeFileSync(path.join(out, 'guard.json'), JSON.stringify({ at: new Date().toISOString(), node: process.version, threads: THREADS, commentsPerThread: COMMENTS_PER_THREAD, rows }, null, 2))
