/**
 * The update index in process: which structs integrate and which wait (the same as Yjs decides,
 * in any order of clients), linear work on the shapes that were quadratic, and the refusals of
 * what no Yjs encoder writes.
 */
import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MalformedUpdate, UpdateIndex } from '../../core/guard/update-index.ts'
import { baseDocument, chainAcrossClients, chainAcrossClientsByYjs, chainInOneClient, concurrentKeyWrites, replica } from './hostile-shapes.ts'
import * as encoding from 'lib0/encoding'

/** What Yjs does with `update` on a copy of `doc`: each client's clock after it, and whether it keeps anything pending. */
function yjsOutcome(doc: Y.Doc, update: Uint8Array): { state: Map<number, number>; pending: boolean } {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  Y.applyUpdate(copy, update)
  return { state: Y.decodeStateVector(Y.encodeStateVector(copy)), pending: copy.store.pendingStructs !== null }
}

/** Random concurrent edits by `writers` replicas of `base`, with some of their updates dropped. */
function randomUpdate(gen: prng.PRNG, base: Y.Doc): Uint8Array {
  const writers = Array.from({ length: prng.int32(gen, 2, 5) }, (_, i) => {
    const doc = new Y.Doc()
    doc.clientID = 100 + i * 7
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(base))
    return doc
  })
  const kept: Uint8Array[] = []
  for (let step = 0; step < 30; step++) {
    const writer = prng.oneOf(gen, writers)
    const before = Y.encodeStateVector(writer)
    const text = writer.getText('t')
    const map = writer.getMap('m')
    if (prng.bool(gen)) text.insert(prng.int32(gen, 0, text.length), prng.word(gen, 1, 3))
    else map.set(prng.oneOf(gen, ['a', 'b', 'c']), step)
    const update = Y.encodeStateAsUpdate(writer, before)
    // Writers see some of each other's edits (so their structs depend on each other's).
    for (const other of writers) if (other !== writer && prng.bool(gen)) Y.applyUpdate(other, update)
    if (prng.int32(gen, 0, 59) > 0) kept.push(update)
  }
  return Y.mergeUpdates(kept)
}

describe('UpdateIndex', () => {
  it('integrates and defers exactly what Yjs integrates and keeps pending (random concurrent edits, updates dropped)', () => {
    const gen = prng.create(12)
    let pendingCases = 0
    for (let round = 0; round < 150; round++) {
      const base = new Y.Doc()
      base.getText('t').insert(0, 'base')
      const update = randomUpdate(gen, base)
      const index = new UpdateIndex(base, update)
      const expected = yjsOutcome(base, update)
      const reached = new Map([...expected.state.keys()].map((client) => [client, index.reach(client)]))
      expect(reached).toEqual(expected.state)
      expect(index.deferred.length > 0).toBe(expected.pending)
      if (expected.pending) pendingCases++
    }
    // The generator must produce both outcomes for the comparison to mean anything.
    expect(pendingCases).toBeGreaterThan(10)
    expect(pendingCases).toBeLessThan(140)
  })

  it('builds the hostile chain as Yjs writes it (the hand-written shape is what a Yjs client sends)', () => {
    const base = baseDocument()
    for (const [n, clients] of [
      [1, 1],
      [50, 8],
      [101, 64],
      [300, 300],
    ] as const) {
      const byHand = replica(base.doc)
      Y.applyUpdate(byHand, chainAcrossClients(base, n, clients).update)
      const byYjs = replica(base.doc)
      Y.applyUpdate(byYjs, chainAcrossClientsByYjs(base, n, clients))
      expect(Y.encodeStateAsUpdate(byHand)).toEqual(Y.encodeStateAsUpdate(byYjs))
      expect(byHand.store.pendingStructs).toBeNull()
    }
  })

  it('admits a chain across client ids in one pass, whatever the order of the clients', () => {
    const base = baseDocument()
    const shape = chainAcrossClients(base, 10_000)
    const started = performance.now()
    const index = new UpdateIndex(base.doc, shape.update)
    const elapsed = performance.now() - started
    expect(index.freshItems.length).toBe(10_000)
    expect(index.deferred).toEqual([])
    // Quadratic admission took 4 to 18 s here (one struct per pass over 10,000 clients).
    expect(elapsed).toBeLessThan(500)
  })

  it('finds the origins of a long chain in one client id without scanning the update for each', () => {
    const base = baseDocument()
    const shape = chainInOneClient(base, 5_000)
    const index = new UpdateIndex(base.doc, shape.update)
    expect(index.freshItems.length).toBe(5_000)
    const started = performance.now()
    for (const item of index.freshItems) index.placementOf(item)
    expect(performance.now() - started).toBeLessThan(200)
    const first = index.placementOf(index.freshItems[0]!)
    expect(index.placementOf(index.freshItems.at(-2)!)).toEqual(first)
  })

  it('counts concurrent writes of one key (same origin), not ordinary overwrites', () => {
    const base = baseDocument()
    expect(new UpdateIndex(base.doc, concurrentKeyWrites(base, 2, 16).update).concurrentKeyWrites(16)).toBeNull()
    expect(new UpdateIndex(base.doc, concurrentKeyWrites(base, 2, 17).update).concurrentKeyWrites(16)).toBe('k0|mallory')
    // 5,000 overwrites of two keys, each after the one before: no two share an origin.
    expect(new UpdateIndex(base.doc, chainInOneClient(base, 5_000).update).concurrentKeyWrites(16)).toBeNull()
  })

  it('refuses a struct that refers to a later struct of its own client (Yjs would fail applying it)', () => {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 1)
    encoding.writeVarUint(encoder, 1)
    encoding.writeVarUint(encoder, 42)
    encoding.writeVarUint(encoder, 0)
    encoding.writeUint8(encoder, 4 | 0b1000_0000) // a string with an origin
    encoding.writeVarUint(encoder, 42)
    encoding.writeVarUint(encoder, 5) // its own client, clock 5: after itself
    encoding.writeVarString(encoder, 'x')
    encoding.writeVarUint(encoder, 0)
    expect(() => new UpdateIndex(new Y.Doc(), encoding.toUint8Array(encoder))).toThrow(MalformedUpdate)
  })

  it('merges the delete set: overlapping ranges visit each struct once', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'abcdef')
    const client = doc.clientID
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 0)
    encoding.writeVarUint(encoder, 1)
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, 3)
    for (const [clock, len] of [
      [0, 4],
      [2, 4],
      [1, 1],
    ]) {
      encoding.writeVarUint(encoder, clock!)
      encoding.writeVarUint(encoder, len!)
    }
    const index = new UpdateIndex(doc, encoding.toUint8Array(encoder))
    expect(index.deletions.get(client)).toEqual([[0, 6]])
    let visited = 0
    let length = 0
    index.forEachDeletedExisting((_item, deleted) => {
      visited++
      length += deleted
    })
    expect(visited).toBe(1)
    expect(length).toBe(6)
  })
})
