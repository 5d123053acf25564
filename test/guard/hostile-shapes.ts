/**
 * The most expensive update shapes we know how to build against the write guard, for the guard's
 * cost tests (test/guard/budget.unit.test.ts, test/guard/integrity.test.ts) and bench/guard.ts.
 * Each shape is built against a small comments document ({@link baseDocument}) and is written by
 * "mallory" (role comment), so that as much of it as possible is valid and checked in full.
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { createThread, reply, threadsMap } from '../../protocol/index.ts'

export const ATTACKER = 'mallory'

/** A plausible time for values that must be times (reactions, read markers). */
const T0 = 1_750_000_000_000

export interface Base {
  /** The server's document. */
  doc: Y.Doc
  /** Client id → user, as the guard's registry would hold it. */
  owners: Map<number, string>
  threadId: string
  /** Ana's first comment in the thread. */
  commentId: string
}

export interface Shape {
  name: string
  doc: Y.Doc
  owners: Map<number, string>
  update: Uint8Array
}

/** A document with one thread of Ana's, her comment, and a reply of Mallory's under a client id she owns. */
export function baseDocument(): Base {
  const doc = new Y.Doc()
  const owners = new Map<number, string>()
  const ana = new Y.Doc()
  const { threadId, commentId } = createThread({ doc: ana, userId: 'ana', newId: idMaker('a') }, 'Ana’s words')
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(ana))
  owners.set(ana.clientID, 'ana')
  const mallory = replica(doc)
  reply({ doc: mallory, userId: ATTACKER, newId: idMaker('m') }, threadId, 'Mallory’s own reply')
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(mallory, Y.encodeStateVector(doc)))
  owners.set(mallory.clientID, ATTACKER)
  return { doc, owners, threadId, commentId }
}

function idMaker(prefix: string): () => string {
  let n = 0
  return () => `${prefix}${n++}`
}

/** A copy of the document that writes under its own (random) client id. */
export function replica(doc: Y.Doc): Y.Doc {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  return copy
}

function threadOf(doc: Y.Doc, threadId: string): Y.Map<unknown> {
  const thread = threadsMap(doc).get(threadId)
  if (!thread) throw new Error(`no thread ${threadId}`)
  return thread
}

function reactionsOf(doc: Y.Doc, threadId: string): Y.Map<unknown> {
  const comments = threadOf(doc, threadId).get('comments') as Y.Array<Y.Map<unknown>>
  return comments.get(0).get('reactions') as Y.Map<unknown>
}

/** What `write` adds to a replica of the base document, as one update. */
function written(base: Base, write: (doc: Y.Doc) => void): Uint8Array {
  const doc = replica(base.doc)
  write(doc)
  return Y.encodeStateAsUpdate(doc, Y.encodeStateVector(base.doc))
}

/** First client id the shapes write under (ascending from here); far from Yjs's random ids in tests. */
const FIRST_CLIENT = 1_000_000

/**
 * The freeze of issue 12: `n` structs, each under a fresh client id and each depending on the one
 * before (an overwrite of Mallory's read marker, whose origin is the previous value). Client ids
 * ascend along the chain while Yjs writes clients in descending order, so a checker that admits
 * structs in the order they are written admits one per pass.
 */
export function chainAcrossClients(base: Base, n: number, clients = n): Shape {
  // Written by hand (as Yjs would write it): a Yjs document switching client ids 20,000 times is slow to build.
  const readBy = (threadOf(base.doc, base.threadId).get('readBy') as Y.Map<unknown>)._item!.id
  const clientOf = (i: number) => FIRST_CLIENT + (i % clients)
  const clockOf = (i: number) => Math.floor(i / clients)
  const used = Math.min(n, clients)
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, used)
  for (let c = used - 1; c >= 0; c--) {
    const count = Math.ceil((n - c) / clients)
    encoding.writeVarUint(encoder, count)
    encoding.writeVarUint(encoder, FIRST_CLIENT + c)
    encoding.writeVarUint(encoder, 0)
    for (let i = c; i < n; i += clients) {
      if (i === 0) {
        encoding.writeUint8(encoder, 8 | 0b0010_0000) // content any, parent and key
        encoding.writeVarUint(encoder, 0)
        encoding.writeVarUint(encoder, readBy.client)
        encoding.writeVarUint(encoder, readBy.clock)
        encoding.writeVarString(encoder, ATTACKER)
      } else {
        encoding.writeUint8(encoder, 8 | 0b1000_0000) // content any, after the previous value
        encoding.writeVarUint(encoder, clientOf(i - 1))
        encoding.writeVarUint(encoder, clockOf(i - 1))
      }
      encoding.writeVarUint(encoder, 1)
      encoding.writeAny(encoder, T0 + i)
    }
  }
  // Every value but the last is overwritten, so deleted.
  encoding.writeVarUint(encoder, used)
  for (let c = used - 1; c >= 0; c--) {
    const count = Math.ceil((n - c) / clients)
    const deleted = clientOf(n - 1) === FIRST_CLIENT + c ? count - 1 : count
    encoding.writeVarUint(encoder, FIRST_CLIENT + c)
    encoding.writeVarUint(encoder, deleted > 0 ? 1 : 0)
    if (deleted > 0) {
      encoding.writeVarUint(encoder, 0)
      encoding.writeVarUint(encoder, deleted)
    }
  }
  const update = encoding.toUint8Array(encoder)
  return { name: clients === n ? `chain across ${n} client ids` : `chain of ${n} across ${clients} client ids`, doc: base.doc, owners: base.owners, update }
}

/** {@link chainAcrossClients} as a Yjs document writes it (slow to build; for checking the hand-written one). */
export function chainAcrossClientsByYjs(base: Base, n: number, clients = n): Uint8Array {
  return written(base, (doc) => {
    const readBy = threadOf(doc, base.threadId).get('readBy') as Y.Map<number>
    for (let i = 0; i < n; i++) {
      doc.clientID = FIRST_CLIENT + (i % clients)
      readBy.set(ATTACKER, T0 + i)
    }
  })
}

/** The client ids {@link chainAcrossClients} and {@link manyClients} write under, first to last. */
export function shapeClients(count: number): number[] {
  return Array.from({ length: count }, (_, i) => FIRST_CLIENT + i)
}

/**
 * `n` structs under one client id, each depending on the one before it but two clocks back (two
 * reaction keys overwritten in turn, so Yjs cannot merge neighbours): a checker that finds an
 * item's origin by scanning the update is quadratic here.
 */
export function chainInOneClient(base: Base, n: number): Shape {
  const update = written(base, (doc) => {
    const reactions = reactionsOf(doc, base.threadId)
    for (let i = 0; i < n; i++) reactions.set(i % 2 === 0 ? `👍|${ATTACKER}` : `🎉|${ATTACKER}`, T0 + i)
  })
  return { name: `chain of ${n} in one client id`, doc: base.doc, owners: base.owners, update }
}

/** `n` tiny map entries under one fresh client id: Mallory's reactions with `n` different emoji. */
export function manyEntries(base: Base, n: number): Shape {
  const update = written(base, (doc) => {
    const reactions = reactionsOf(doc, base.threadId)
    doc.transact(() => {
      for (let i = 0; i < n; i++) reactions.set(`e${i}|${ATTACKER}`, T0)
    })
  })
  return { name: `${n} map entries`, doc: base.doc, owners: base.owners, update }
}

/** `n` map entries, each under its own fresh client id. */
export function manyClients(base: Base, n: number): Shape {
  const update = written(base, (doc) => {
    const reactions = reactionsOf(doc, base.threadId)
    for (let i = 0; i < n; i++) {
      doc.clientID = FIRST_CLIENT + i
      reactions.set(`e${i}|${ATTACKER}`, T0)
    }
  })
  return { name: `${n} client ids`, doc: base.doc, owners: base.owners, update }
}

/**
 * A document whose `history` client holds `m` deleted structs that Yjs cannot merge (Ana toggled
 * two reactions `m` times), and an update whose delete set repeats `n` times the range over all
 * of them: a checker that walks the document once per range is O(n × m).
 */
export function manyDeleteRanges(base: Base, n: number, m = 2_000): Shape {
  const doc = replica(base.doc)
  const owners = new Map(base.owners)
  const history = replica(base.doc)
  const reactions = reactionsOf(history, base.threadId)
  for (let i = 0; i < m; i++) reactions.set(i % 2 === 0 ? '👍|ana' : '🎉|ana', T0 + i)
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(history, Y.encodeStateVector(doc)))
  owners.set(history.clientID, 'ana')
  // The last two structs are the reactions' current values; every one before is deleted.
  const end = Y.getState(doc.store, history.clientID) - 2
  const update = deleteSetUpdate([[history.clientID, Array.from({ length: n }, () => [0, end] as [number, number])]])
  return { name: `${n} delete ranges over ${m} deleted structs`, doc, owners, update }
}

/**
 * The delete set an honest client sends back in every sync step 2 of a document whose `history`
 * client deleted `n` structs Yjs cannot merge: one range per deleted struct, in order.
 */
export function honestDeleteSet(base: Base, n: number): Shape {
  const doc = replica(base.doc)
  const owners = new Map(base.owners)
  const history = replica(base.doc)
  const reactions = reactionsOf(history, base.threadId)
  for (let i = 0; i < n + 2; i++) reactions.set(i % 2 === 0 ? '👍|ana' : '🎉|ana', T0 + i)
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(history, Y.encodeStateVector(doc)))
  owners.set(history.clientID, 'ana')
  const ranges: Array<[number, number]> = []
  for (const struct of doc.store.clients.get(history.clientID) ?? []) if (struct.deleted) ranges.push([struct.id.clock, struct.length])
  return { name: `an honest delete set of ${ranges.length} ranges`, doc, owners, update: deleteSetUpdate([[history.clientID, ranges]]) }
}

/**
 * `n` disjoint one-clock ranges over clocks nobody has, under client ids nobody owns: each range
 * is a deletion the server would have to keep pending.
 */
export function manyUnknownDeleteRanges(base: Base, n: number): Shape {
  const ranges = Array.from({ length: n }, (_, i) => [i * 2, 1] as [number, number])
  return { name: `${n} delete ranges of unknown structs`, doc: base.doc, owners: base.owners, update: deleteSetUpdate([[FIRST_CLIENT, ranges]]) }
}

/**
 * `n` one-clock deletions, two clocks apart, of clocks nobody has yet under `client` (the sender's
 * own client id: the deletions are allowed and stay pending until the structs arrive).
 */
export function unknownOwnDeleteRanges(base: Base, n: number, client: number): Shape {
  const ranges = Array.from({ length: n }, (_, i) => [i * 2, 1] as [number, number])
  return { name: `${n} pending deletions of the sender's own future clocks`, doc: base.doc, owners: base.owners, update: deleteSetUpdate([[client, ranges]]) }
}

/**
 * `keys` map keys written `writes` times each without an origin, all under one client id (no Yjs
 * encoder writes this: each write is concurrent with the others). Yjs walks the key's history for
 * each such write, so it is quadratic in `writes`.
 */
export function concurrentKeyWrites(base: Base, keys: number, writes: number, client = FIRST_CLIENT): Shape {
  const commentItem = (reactionsOf(base.doc, base.threadId)._item as Y.Item).id
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1)
  encoding.writeVarUint(encoder, keys * writes)
  encoding.writeVarUint(encoder, client)
  encoding.writeVarUint(encoder, 0)
  for (let k = 0; k < keys; k++) {
    for (let w = 0; w < writes; w++) {
      encoding.writeUint8(encoder, 8 | 0b0010_0000) // content any, with a parent key
      encoding.writeVarUint(encoder, 0) // the parent is an item (the reactions map)
      encoding.writeVarUint(encoder, commentItem.client)
      encoding.writeVarUint(encoder, commentItem.clock)
      encoding.writeVarString(encoder, `k${k}|${ATTACKER}`)
      encoding.writeVarUint(encoder, 1)
      encoding.writeAny(encoder, T0 + w)
    }
  }
  encoding.writeVarUint(encoder, 0)
  return { name: `${keys} keys × ${writes} concurrent writes`, doc: base.doc, owners: base.owners, update: encoding.toUint8Array(encoder) }
}

/** A V1 update with no structs and the given delete set: per client, `[clock, length]` ranges. */
export function deleteSetUpdate(clients: Array<[number, Array<[number, number]>]>): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarUint(encoder, clients.length)
  for (const [client, ranges] of clients) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, ranges.length)
    for (const [clock, length] of ranges) {
      encoding.writeVarUint(encoder, clock)
      encoding.writeVarUint(encoder, length)
    }
  }
  return encoding.toUint8Array(encoder)
}

/** About the largest `n` for which `build(n)` stays within `maxBytes` (sizes grow linearly with n). */
export function largestWithin(build: (n: number) => Shape, maxBytes: number): number {
  const probe = 1_000
  const perUnit = build(probe).update.byteLength / probe
  let n = Math.floor(maxBytes / perUnit)
  while (n > 1 && build(n).update.byteLength > maxBytes) n = Math.floor(n * 0.98)
  return n
}

/**
 * What the SDK sends after an offline session (not hostile: the shape to let through): `comments`
 * comments written with protocol/comments/write.ts under one new client id, a new thread every
 * `perThread` comments and replies in between, bodies of about 100 characters, every third with a
 * mention.
 */
export function offlineSession(base: Base, comments: number, perThread: number): Shape {
  const update = written(base, (doc) => {
    const newId = idMaker('o')
    let thread = ''
    for (let c = 0; c < comments; c++) {
      const text = `comment ${c}: `.padEnd(100, 'lorem ipsum ')
      const body = c % 3 === 0 ? [{ text: text.slice(0, 60) }, { text: '@ana', mention: 'ana' }, { text: text.slice(60) }] : text
      if (c % perThread === 0) thread = createThread({ doc, userId: ATTACKER, newId }, body).threadId
      else reply({ doc, userId: ATTACKER, newId }, thread, body)
    }
  })
  return { name: `an offline session of ${comments} comments`, doc: base.doc, owners: base.owners, update }
}

/**
 * `n` one-character inserts into Mallory's own reply, all at its end (the same origin, no right
 * origin) under one client id: Yjs orders each against all the others there, quadratic in `n`.
 */
export function concurrentInserts(base: Base, n: number, client = FIRST_CLIENT): Shape {
  const comments = threadOf(base.doc, base.threadId).get('comments') as Y.Array<Y.Map<unknown>>
  const own = comments.toArray().find((comment) => comment.get('authorId') === ATTACKER)
  const last = (own?.get('body') as Y.Text | undefined)?._start
  if (!last) throw new Error('no reply of Mallory’s')
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1)
  encoding.writeVarUint(encoder, n)
  encoding.writeVarUint(encoder, client)
  encoding.writeVarUint(encoder, 0)
  for (let i = 0; i < n; i++) {
    encoding.writeUint8(encoder, 4 | 0b1000_0000) // a string, after the origin
    encoding.writeVarUint(encoder, last.id.client)
    encoding.writeVarUint(encoder, last.id.clock + last.length - 1)
    encoding.writeVarString(encoder, 'x')
  }
  encoding.writeVarUint(encoder, 0)
  return { name: `${n} inserts at one place`, doc: base.doc, owners: base.owners, update: encoding.toUint8Array(encoder) }
}
