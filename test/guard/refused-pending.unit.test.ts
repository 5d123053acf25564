/**
 * What refused client ids held pending, in process (core/guard/refused-pending.ts and
 * core/documents/forget.ts): dropped from the document, with the client ids that wait on
 * them; remembered, so that a client sending them back is neither refused nor lets them back in;
 * and cut out of stored updates.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { withoutClocks } from '../../core/documents/forget.ts'
import { judgeUpdate, type GuardedDocument } from '../../core/guard/judge.ts'
import { pendingOf } from '../../core/guard/pending.ts'
import { dropPending, refusePending, watchRefusedPending } from '../../core/guard/refused-pending.ts'
import { createThread, markRead, react, readThreads, reply, threadsMap } from '../../protocol/index.ts'
import { GuardedDoc, type Actor } from '../unit/guard-fixture.ts'
import { deleteSetUpdate } from './hostile-shapes.ts'

const ana: Actor = { userId: 'ana', role: 'comment' }
const mallory: Actor = { userId: 'mallory', role: 'comment' }

/** An id maker handing out these ids in turn. */
const ids =
  (...list: string[]) =>
  () =>
    list.shift() ?? 'x'

/** A guarded document with ana's thread t1 (comment c1), and a copy of it for mallory to write in. */
function setUp(): { server: GuardedDoc; m: Y.Doc; take(actor: Actor, update: Uint8Array): boolean } {
  const server = new GuardedDoc()
  const anaDoc = new Y.Doc()
  createThread({ doc: anaDoc, userId: 'ana', newId: ids('t1', 'c1') }, 'Ana’s words')
  expect(server.accept(ana, Y.encodeStateAsUpdate(anaDoc))).toMatchObject({ ok: true })
  const take = (actor: Actor, update: Uint8Array) => {
    const verdict = server.accept(actor, update)
    if (!verdict.ok) refusePending(server.doc, server.clients, verdict.error.clients)
    return verdict.ok
  }
  return { server, m: server.replica(), take }
}

/** What `write` adds to `doc`, as one update. */
function written(doc: Y.Doc, write: () => void): Uint8Array {
  const before = Y.encodeStateVector(doc)
  write()
  return Y.encodeStateAsUpdate(doc, before)
}

describe('what a refused client id held pending', () => {
  it('is dropped with what waits on it under another client id, and leaves the user’s later checks', () => {
    const { server, m, take } = setUp()
    const x = m.clientID
    const forged = written(m, () => react({ doc: m, userId: 'ana' }, 't1', 'c1', '👎'))
    const { commentId } = reply({ doc: m, userId: 'mallory' }, 't1', 'my words')
    const honest = Y.encodeStateAsUpdate(m, Y.encodeStateVector(server.doc))
    const honestOnly = Y.diffUpdate(honest, Y.encodeStateVector(new Map([[x, 1]])))
    // Under a second client id, words appended to her reply: they wait on X's pending reply.
    m.clientID = x + 100
    const chained = written(m, () => {
      const body = (threadsMap(m).get('t1')!.get('comments') as Y.Array<Y.Map<unknown>>)
        .toArray()
        .find((c) => c.get('id') === commentId)!
        .get('body') as Y.Text
      body.insert(body.length, ' and more')
    })
    expect(take(mallory, honestOnly)).toBe(true)
    expect(take(mallory, chained)).toBe(true)
    expect(pendingOf(server.doc, (client) => client === x || client === x + 100)).not.toBeNull()
    expect(take(mallory, forged)).toBe(false)
    expect(server.doc.store.pendingStructs).toBeNull()
    expect(server.clients.isBlocked(x) && server.clients.isBlocked(x + 100)).toBe(true)
    expect(pendingOf(server.doc, () => true)).toBeNull()
    // Her rebuilt document writes, checked alone.
    const guarded: GuardedDocument = { kind: 'comments', places: server.places, clients: server.clients, bytes: 0 }
    const fresh = server.replica()
    expect(
      judgeUpdate(
        server.doc,
        guarded,
        mallory,
        written(fresh, () => markRead({ doc: fresh, userId: 'mallory' }, 't1')),
      ),
    ).toMatchObject({ ok: true })
  })

  it('is taken back from a client that got it in a sync step 2, and dropped again after Yjs applies it', () => {
    const { server, m, take } = setUp()
    const stop = watchRefusedPending(server.doc, server.clients)
    const forged = written(m, () => react({ doc: m, userId: 'ana' }, 't1', 'c1', '👎'))
    const honest = written(m, () => reply({ doc: m, userId: 'mallory' }, 't1', 'my words'))
    const deletion = deleteSetUpdate([[m.clientID, [[Y.getState(m.store, m.clientID) + 3, 2]]]])
    expect(take(mallory, honest)).toBe(true)
    expect(take(mallory, deletion)).toBe(true)
    const bob = server.replica()
    expect(bob.store.pendingStructs).not.toBeNull()
    expect(bob.store.pendingDs).not.toBeNull()
    expect(take(mallory, forged)).toBe(false)
    expect(server.doc.store.pendingStructs).toBeNull()
    expect(server.doc.store.pendingDs).toBeNull()
    // Bob's sync step 2 sends both back: nothing new, not his, and not kept.
    const back = Y.encodeStateAsUpdate(bob, Y.encodeStateVector(server.doc))
    for (let i = 0; i < 3; i++) {
      expect(take({ userId: 'bob', role: 'comment' }, back)).toBe(true)
      expect(server.doc.store.pendingStructs).toBeNull()
      expect(server.doc.store.pendingDs).toBeNull()
    }
    // A struct under the refused client id that it never held is refused, from anyone.
    const other = server.replica()
    Y.applyUpdate(other, Y.encodeStateAsUpdate(m))
    other.clientID = m.clientID
    const planted = written(other, () => markRead({ doc: other, userId: 'mallory' }, 't1'))
    expect(server.check({ userId: 'bob', role: 'comment' }, planted)).toMatchObject({
      ok: false,
      error: { reason: expect.stringMatching(/belongs to another user/) },
    })
    expect(server.check(mallory, planted)).toMatchObject({ ok: false, error: { reason: expect.stringMatching(/refused earlier/) } })
    stop()
    expect(JSON.stringify(readThreads(server.doc))).not.toContain('my words')
  })

  it('drops only the refused client ids’ pending structs and deletions: the others still integrate when their turn comes', () => {
    const doc = new Y.Doc()
    const writer = (client: number, root: string) => {
      const d = new Y.Doc()
      d.clientID = client
      const gap = written(d, () => d.getText(root).insert(0, 'abc'))
      const rest = written(d, () => d.getText(root).insert(3, 'def'))
      return { gap, rest }
    }
    const kept = writer(5, 'kept')
    const refused = writer(6, 'refused')
    Y.applyUpdate(doc, kept.rest)
    Y.applyUpdate(doc, refused.rest)
    Y.applyUpdate(
      doc,
      deleteSetUpdate([
        [5, [[4, 1]]],
        [6, [[4, 1]]],
      ]),
    )
    expect(dropPending(doc, new Set([6]))).toEqual(new Map([[6, 0]]))
    expect(doc.store.pendingStructs).not.toBeNull()
    expect(doc.store.pendingDs).not.toBeNull()
    Y.applyUpdate(doc, kept.gap)
    Y.applyUpdate(doc, refused.gap)
    expect(doc.getText('kept').toString()).toBe('abcdf')
    expect(doc.getText('refused').toString()).toBe('abc')
    expect(doc.store.pendingStructs).toBeNull()
    expect(doc.store.pendingDs).toBeNull()
  })

  it('changes nothing when the refused client ids hold nothing pending', () => {
    const { server, take } = setUp()
    const before = Y.encodeStateAsUpdate(server.doc)
    expect(
      take(
        mallory,
        server.updateOf((doc) => doc.getMap('evil').set('x', 1)),
      ),
    ).toBe(false)
    expect(Y.encodeStateAsUpdate(server.doc)).toEqual(before)
  })
})

describe('withoutClocks: stored updates without forgotten clocks', () => {
  it('cuts a client’s structs and deletions from a clock on, and keeps everything else byte for byte when there is nothing to cut', () => {
    const doc = new Y.Doc()
    doc.clientID = 7
    const other = new Y.Doc()
    other.clientID = 9
    const keptText = written(doc, () => doc.getText('t').insert(0, 'kept'))
    Y.applyUpdate(other, Y.encodeStateAsUpdate(doc))
    const otherWords = written(other, () => other.getText('t').insert(4, ' other'))
    const gap = written(doc, () => doc.getMap('m').set('gap', 1))
    const cut = written(doc, () => {
      doc.getMap('m').set('cut', 2)
      doc.getText('t').delete(0, 2)
    })
    void gap
    const from = new Map([[7, 4]])
    // Stored as they would be: the integrated part, the other client's, and what waits after the gap.
    const merged = Y.mergeUpdates([keptText, otherWords, cut, deleteSetUpdate([[7, [[6, 3]]]])])
    const result = withoutClocks(merged, from)
    const { structs, ds } = Y.decodeUpdate(result)
    expect(structs.map((s) => [s.id.client, s.id.clock, s.length, s.constructor.name])).toEqual([
      [9, 0, 6, 'Item'],
      [7, 0, 4, 'Item'],
    ])
    expect([...ds.clients].map(([client, ranges]) => [client, ranges.map((r) => [r.clock, r.len])])).toEqual([[7, [[0, 2]]]])
    const loaded = new Y.Doc()
    Y.applyUpdate(loaded, result)
    expect(loaded.getText('t').toString()).toBe('pt other')
    expect(loaded.store.pendingStructs).toBeNull()
    expect(withoutClocks(merged, new Map([[8, 0]]))).toBe(merged)
    expect(withoutClocks(merged, new Map())).toBe(merged)
  })

  it('cuts a garbage-collected range across the clock', () => {
    const gc = new Uint8Array([1, 1, 7, 0, 0, 10, 0])
    const { structs } = Y.decodeUpdate(withoutClocks(gc, new Map([[7, 4]])))
    expect(structs.map((s) => [s.id.clock, s.length, s.constructor.name])).toEqual([[0, 4, 'GC']])
  })
})
