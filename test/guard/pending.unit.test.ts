/**
 * Pending structs are always someone's: `pendingOf` gives a user only their own (however the
 * pending clients' clocks start), `holdsPending` recognises another user's pending struct sent
 * back unchanged (and nothing else), and the client-id check refuses, binds and blocks by owner.
 * A removal that applies at once while what allows it waits (a map entry's new value, a
 * moderator's hide) answers out_of_sync: a resync sends them together.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { checkUpdate, type GuardInput } from '../../core/guard/check.ts'
import { holdsPending, pendingOf } from '../../core/guard/pending.ts'
import { Places } from '../../core/guard/places.ts'
import { markRead, reply, setResolved, threadsMap } from '../../protocol/index.ts'
import { baseDocument, replica, type Base } from './hostile-shapes.ts'

/** A writer of the base document under a fixed client id, and the updates of its next two writes (the first withheld). */
function gapOf(base: Base, client: number, userId: string, write: (doc: Y.Doc) => void): { first: Uint8Array; second: Uint8Array } {
  const doc = replica(base.doc)
  doc.clientID = client
  const before = Y.encodeStateVector(doc)
  markRead({ doc, userId }, base.threadId)
  const middle = Y.encodeStateVector(doc)
  write(doc)
  return { first: Y.encodeStateAsUpdate(doc, before), second: Y.encodeStateAsUpdate(doc, middle) }
}

const clientsIn = (update: Uint8Array) => new Set(Y.decodeUpdate(update).structs.map((s) => s.id.client))

function input(base: Base, userId: string, role: 'comment' | 'moderate' = 'comment', blocked: number[] = []): GuardInput {
  return {
    doc: base.doc,
    kind: 'comments',
    actor: { userId, role },
    places: new Places('comments'),
    ownerOf: (c) => base.owners.get(c),
    isBlocked: (c) => blocked.includes(c),
  }
}

describe('pending structs', () => {
  it('gives each user only their own pending structs, also for clients whose structs start past clock 0', () => {
    const base = baseDocument()
    const alice = gapOf(base, 501, 'alice', (doc) => reply({ doc, userId: 'alice' }, base.threadId, 'alice later'))
    const bob = gapOf(base, 502, 'bob', (doc) => reply({ doc, userId: 'bob' }, base.threadId, 'bob later'))
    base.owners.set(501, 'alice')
    base.owners.set(502, 'bob')
    Y.applyUpdate(base.doc, alice.second)
    Y.applyUpdate(base.doc, bob.second)
    expect(base.doc.store.pendingStructs).not.toBeNull()
    // The pending clients start at clock 1: a state vector of the pending update lists neither.
    expect(Y.decodeStateVector(Y.encodeStateVectorFromUpdate(Y.convertUpdateFormatV2ToV1(base.doc.store.pendingStructs!.update))).size).toBe(0)
    expect(clientsIn(pendingOf(base.doc, (c) => base.owners.get(c) === 'alice')!)).toEqual(new Set([501]))
    expect(clientsIn(pendingOf(base.doc, (c) => base.owners.get(c) === 'bob')!)).toEqual(new Set([502]))
    expect(pendingOf(base.doc, (c) => base.owners.get(c) === 'mallory')).toBeNull()
  })

  it('recognises another user’s pending struct sent back unchanged, and refuses it altered', () => {
    const base = baseDocument()
    const alice = gapOf(base, 501, 'alice', (doc) => reply({ doc, userId: 'alice' }, base.threadId, 'alice later'))
    base.owners.set(501, 'alice')
    Y.applyUpdate(base.doc, alice.second)
    const sentBack = Y.decodeUpdate(alice.second).structs as Array<Y.Item | Y.GC>
    expect(sentBack.length).toBeGreaterThan(1)
    for (const struct of sentBack) expect(holdsPending(base.doc, struct)).toBe(true)
    // The same clocks with other words: a forgery that would replace alice's pending text.
    const forged = gapOf(base, 501, 'alice', (doc) => reply({ doc, userId: 'alice' }, base.threadId, 'mallory’s words')).second
    const differing = (Y.decodeUpdate(forged).structs as Array<Y.Item | Y.GC>).filter((s) => !holdsPending(base.doc, s))
    expect(differing.length).toBeGreaterThan(0)
    // Bob's sync step 2 that carries alice's pending structs unchanged passes; mallory's altered ones do not.
    // (Nothing of it is bob's: nothing to bind.)
    expect(checkUpdate(input(base, 'bob'), alice.second)).toMatchObject({ ok: true, value: { clients: new Set(), introduced: [] } })
    expect(checkUpdate(input(base, 'mallory'), forged)).toMatchObject({
      ok: false,
      error: { code: 'write_rejected', reason: 'client id 501 belongs to another user' },
    })
  })

  it('refuses structs waiting under another user’s client id (the forgery that was checked later as its victim)', () => {
    const base = baseDocument()
    base.owners.set(777, 'bob')
    const planted = gapOf(base, 777, 'bob', (doc) => reply({ doc, userId: 'bob' }, base.threadId, 'written by mallory as bob'))
    const verdict = checkUpdate(input(base, 'mallory'), planted.second)
    expect(verdict).toMatchObject({ ok: false, error: { code: 'write_rejected', reason: 'client id 777 belongs to another user' } })
    // The refusal may not block bob's client id.
    expect(!verdict.ok && verdict.error.clients).toEqual([])
  })

  it('binds deferred structs under a new client id to their sender, so their pending state is attributable', () => {
    const base = baseDocument()
    const own = gapOf(base, 888, 'mallory', (doc) => reply({ doc, userId: 'mallory' }, base.threadId, 'later'))
    const verdict = checkUpdate(input(base, 'mallory'), own.second)
    expect(verdict).toMatchObject({ ok: true, value: { clients: new Set([888]), introduced: [888], defers: true } })
  })

  it('refuses writes under the document’s own (server) client id', () => {
    const base = baseDocument()
    const doc = replica(base.doc)
    doc.clientID = base.doc.clientID
    const before = Y.encodeStateVector(doc)
    markRead({ doc, userId: 'mallory' }, base.threadId)
    expect(checkUpdate(input(base, 'mallory'), Y.encodeStateAsUpdate(doc, before))).toMatchObject({
      ok: false,
      error: {
        reason: `client id ${base.doc.clientID} belongs to the server`,
      },
    })
  })

  it('blocks, on a refusal, only the sender’s client ids and new ones, never another user’s', () => {
    const base = baseDocument()
    const ana = [...base.owners].find(([, user]) => user === 'ana')![0]
    // The document's full state (ana's structs included) plus a forged comment under a new client id.
    const doc = replica(base.doc)
    doc.clientID = 999
    reply({ doc, userId: 'ana' }, base.threadId, 'forged as ana')
    const fullState = Y.encodeStateAsUpdate(doc)
    const verdict = checkUpdate(input(base, 'mallory'), fullState)
    expect(verdict).toMatchObject({ ok: false, error: { code: 'write_rejected' } })
    expect(!verdict.ok && verdict.error.clients).toContain(999)
    expect(!verdict.ok && verdict.error.clients).not.toContain(ana)
    // Not even when nobody owns ana's client id (a document written before client ids were bound):
    // the document holds structs of it, so it is not the update's to introduce.
    base.owners.delete(ana)
    const legacy = checkUpdate(input(base, 'mallory'), fullState)
    expect(!legacy.ok && legacy.error.clients).toContain(999)
    expect(!legacy.ok && legacy.error.clients).not.toContain(ana)
    expect(threadsMap(base.doc).size).toBe(1)
  })
})

describe('removals whose replacement waits', () => {
  it('answers out_of_sync, not write_rejected, when the new value of a removed entry waits for the sender’s earlier structs (its origin an older value)', () => {
    const base = baseDocument()
    const thread = () => threadsMap(base.doc).get(base.threadId)!
    // Ana resolves the thread (r0), then reopens it (r1 overwrites r0).
    const ana = replica(base.doc)
    ana.clientID = 100
    setResolved({ doc: ana, userId: 'ana' }, base.threadId, true)
    Y.applyUpdate(base.doc, Y.encodeStateAsUpdate(ana, Y.encodeStateVector(base.doc)))
    // Mallory saw only r0: a read marker (never delivered), then her own resolve (origin r0).
    const mallory = replica(base.doc)
    mallory.clientID = 900
    setResolved({ doc: ana, userId: 'ana' }, base.threadId, false)
    Y.applyUpdate(base.doc, Y.encodeStateAsUpdate(ana, Y.encodeStateVector(base.doc)))
    markRead({ doc: mallory, userId: 'mallory' }, base.threadId)
    const afterMarker = Y.encodeStateVector(mallory)
    setResolved({ doc: mallory, userId: 'mallory' }, base.threadId, true)
    // She then receives r1: her value wins (the higher client id), so her document deletes r1.
    Y.applyUpdate(mallory, Y.encodeStateAsUpdate(base.doc, Y.encodeStateVector(mallory)))
    expect(threadsMap(mallory).get(base.threadId)!.get('resolved')).toBe(true)
    expect(thread().get('resolved')).toBe(false)
    // Her sync step 2 without the read marker: r1's deletion applies at once, her value waits.
    const step2 = Y.diffUpdate(Y.encodeStateAsUpdate(mallory, Y.encodeStateVector(base.doc)), afterMarker)
    base.owners.set(900, 'mallory')
    expect(checkUpdate(input(base, 'mallory'), step2)).toMatchObject({
      ok: false,
      error: {
        code: 'out_of_sync',
        reason: expect.stringMatching(/replacement is not here yet/),
      },
    })
    // With the marker (a resync), all of it is taken.
    expect(checkUpdate(input(base, 'mallory'), Y.encodeStateAsUpdate(mallory, Y.encodeStateVector(base.doc)))).toMatchObject({ ok: true })
  })

  it('answers out_of_sync, not write_rejected, when a moderator’s word removal applies now and the hide that allows it waits', () => {
    const base = baseDocument()
    const mod = replica(base.doc)
    mod.clientID = 700
    markRead({ doc: mod, userId: 'mod' }, base.threadId)
    const afterMarker = Y.encodeStateVector(mod)
    const comment = (threadsMap(mod).get(base.threadId)!.get('comments') as Y.Array<Y.Map<unknown>>).get(0)
    mod.transact(() => {
      comment.set('deletedAt', Date.now())
      comment.set('moderation', { hiddenBy: 'mod', reason: 'spam', at: Date.now() })
      const body = comment.get('body') as Y.Text
      body.delete(0, body.length)
    })
    base.owners.set(700, 'mod')
    const hide = Y.encodeStateAsUpdate(mod, afterMarker)
    expect(checkUpdate(input(base, 'mod', 'moderate'), hide)).toMatchObject({
      ok: false,
      error: {
        code: 'out_of_sync',
        reason: expect.stringMatching(/hides it is not here yet/),
      },
    })
    expect(checkUpdate(input(base, 'mod', 'moderate'), Y.encodeStateAsUpdate(mod, Y.encodeStateVector(base.doc)))).toMatchObject({ ok: true })
    // Without a hide anywhere, removing another user's words stays refused.
    const bare = replica(base.doc)
    const text = (threadsMap(bare).get(base.threadId)!.get('comments') as Y.Array<Y.Map<unknown>>).get(0).get('body') as Y.Text
    const before = Y.encodeStateVector(bare)
    text.delete(0, 2)
    expect(checkUpdate(input(base, 'mod', 'moderate'), Y.encodeStateAsUpdate(bare, before))).toMatchObject({ ok: false, error: { code: 'write_rejected' } })
  })
})
