/**
 * The work budget of an update (counted on its bytes, stopping at the first budget exceeded), the
 * quota of new client ids per user and document, and the document caps the guard applies after
 * its checks (items, pending bytes, new client ids per update).
 */
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DEFAULT_BUDGET, scanUpdate } from '../../core/guard/budget.ts'
import { checkUpdate } from '../../core/guard/check.ts'
import { ClientQuota } from '../../core/guard/client-quota.ts'
import { ClientRegistry } from '../../core/guard/clients.ts'
import { DEFAULT_CAPS, judgeUpdate, type GuardedDocument } from '../../core/guard/judge.ts'
import * as limits from '../../core/guard/limits.ts'
import { Places } from '../../core/guard/places.ts'
import { documentStructs } from '../../core/guard/update-index.ts'
import { ATTACKER, baseDocument, chainAcrossClients, deleteSetUpdate, manyClients, manyEntries, type Base } from './hostile-shapes.ts'

const guarded = (base: Base): GuardedDocument => ({
  kind: 'comments',
  places: new Places('comments'),
  clients: new ClientRegistry(new Map(base.owners)),
  bytes: 0,
})
const mallory = { userId: ATTACKER, role: 'comment' as const }

describe('the work budget of an update', () => {
  it('counts structs, entries, client ids and delete ranges', () => {
    const base = baseDocument()
    const scan = scanUpdate(manyClients(base, 10).update)
    expect(scan).toMatchObject({ ok: true, value: { structs: 10, entries: 10, deleteRanges: 0 } })
    expect(scan.ok && scan.value.clients.length).toBe(10)
    expect(
      scanUpdate(
        deleteSetUpdate([
          [
            1,
            [
              [0, 1],
              [5, 2],
            ],
          ],
          [2, [[3, 1]]],
        ]),
      ),
    ).toMatchObject({ ok: true, value: { deleteRanges: 3 } })
  })

  it('refuses each budget by name, as soon as it is exceeded', () => {
    const base = baseDocument()
    const entries = scanUpdate(manyEntries(base, limits.MAX_UPDATE_ENTRIES + 1).update)
    expect(entries).toMatchObject({ ok: false, error: { overBudget: true, reason: expect.stringMatching(/structs|entries/) } })
    const clients = scanUpdate(manyClients(base, limits.MAX_UPDATE_CLIENTS + 1).update)
    expect(clients).toMatchObject({
      ok: false,
      error: {
        overBudget: true,
        reason: `an update may carry at most ${limits.MAX_UPDATE_CLIENTS} client ids (budget exceeded)`,
      },
    })
    const ranges = Array.from({ length: limits.MAX_UPDATE_DELETE_RANGES + 1 }, (_, i) => [i * 2, 1] as [number, number])
    expect(scanUpdate(deleteSetUpdate([[1, ranges]]))).toMatchObject({ ok: false, error: { overBudget: true, reason: expect.stringMatching(/delete ranges/) } })
    // A document's own delete set comes back in every sync step 2: the range budget grows with it.
    expect(scanUpdate(deleteSetUpdate([[1, ranges]]), DEFAULT_BUDGET, 1)).toMatchObject({ ok: true })
  })

  it('counts a struct that writes a map entry or array element twice; a text run once, however long', () => {
    const base = baseDocument()
    const budget = { ...DEFAULT_BUDGET, structs: 100, entries: 1_000 }
    expect(scanUpdate(manyEntries(base, 50).update, budget)).toMatchObject({ ok: true, value: { structs: 50, entries: 50 } })
    expect(scanUpdate(manyEntries(base, 51).update, budget)).toMatchObject({
      ok: false,
      error: {
        overBudget: true,
        reason: expect.stringMatching(/100 structs, a map entry or array element counting twice/),
      },
    })
    // 100 text runs of a comment body: 100 structs, no entries.
    const text = new Y.Doc()
    Y.applyUpdate(text, Y.encodeStateAsUpdate(base.doc))
    const before = Y.encodeStateVector(text)
    const body = text.getText('scratch')
    for (let i = 0; i < 100; i++) body.insert(0, 'words '.repeat(20))
    expect(scanUpdate(Y.encodeStateAsUpdate(text, before), budget)).toMatchObject({ ok: true, value: { structs: 100, entries: 0 } })
  })

  it('refuses what no Yjs encoder writes and Yjs would apply differently: a client in two sections, overlapping delete ranges', () => {
    // Two sections for client 5, each one string at clock 0: Yjs would keep only the second.
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 2)
    for (const text of ['first', 'second']) {
      encoding.writeVarUint(encoder, 1)
      encoding.writeVarUint(encoder, 5)
      encoding.writeVarUint(encoder, 0)
      encoding.writeUint8(encoder, 4)
      encoding.writeVarUint(encoder, 1)
      encoding.writeVarString(encoder, 'threads')
      encoding.writeVarString(encoder, text)
    }
    encoding.writeVarUint(encoder, 0)
    expect(scanUpdate(encoding.toUint8Array(encoder))).toMatchObject({
      ok: false,
      error: { overBudget: false, reason: 'client id 5 appears twice in the update' },
    })
    expect(
      scanUpdate(
        deleteSetUpdate([
          [
            1,
            [
              [0, 5],
              [3, 1],
            ],
          ],
        ]),
      ),
    ).toMatchObject({ ok: false, error: { overBudget: false, reason: expect.stringMatching(/overlap/) } })
    expect(
      scanUpdate(
        deleteSetUpdate([
          [
            1,
            [
              [5, 1],
              [0, 1],
            ],
          ],
        ]),
      ),
    ).toMatchObject({ ok: false, error: { overBudget: false } })
    expect(scanUpdate(new Uint8Array([1, 5, 9]))).toMatchObject({ ok: false, error: { overBudget: false, reason: expect.stringMatching(/cannot be decoded/) } })
  })

  it('stops at the budget: a 1 MiB update of tiny structs costs no more than the budget', () => {
    const base = baseDocument()
    const huge = manyEntries(base, 40_000).update
    expect(huge.byteLength).toBeGreaterThan(1_000_000)
    scanUpdate(huge)
    const started = performance.now()
    const scan = scanUpdate(huge)
    expect(performance.now() - started).toBeLessThan(20)
    expect(scan).toMatchObject({ ok: false, error: { overBudget: true } })
  })
})

describe('the quota of new client ids', () => {
  it('gives each user and document its own bucket, refilled over an hour', () => {
    const quota = new ClientQuota(100)
    const t = 1_000_000
    expect(quota.take('d', 'u', 60, t)).toBe(true)
    expect(quota.take('d', 'u', 41, t)).toBe(false)
    expect(quota.take('d', 'u', 40, t)).toBe(true)
    expect(quota.take('d', 'u', 1, t)).toBe(false)
    expect(quota.take('d', 'v', 100, t)).toBe(true)
    expect(quota.take('e', 'u', 100, t)).toBe(true)
    expect(quota.take('d', 'u', 10, t + 6 * 60_000)).toBe(true)
    expect(quota.take('d', 'u', 1, t + 6 * 60_000)).toBe(false)
    expect(quota.take('d', 'u', 100, t + 2 * 3_600_000)).toBe(true)
  })
})

describe('document caps', () => {
  it('refuses an update that would take the document past its items', () => {
    const base = baseDocument()
    const update = manyEntries(base, 50).update
    const caps = { ...DEFAULT_CAPS, maxDocumentItems: documentStructs(base.doc) + 49 }
    expect(judgeUpdate(base.doc, guarded(base), mallory, update, caps)).toMatchObject({
      ok: false,
      error: { code: 'too_large', reason: expect.stringMatching(/items/) },
    })
    expect(judgeUpdate(base.doc, guarded(base), mallory, update, { ...caps, maxDocumentItems: documentStructs(base.doc) + 50 })).toMatchObject({ ok: true })
  })

  it('refuses more pending state than the document may hold (out_of_sync: resync)', () => {
    const base = baseDocument()
    const own = [...base.owners].find(([, user]) => user === ATTACKER)![0]
    const pendingDeletions = deleteSetUpdate([[own, [[1_000_000, 1]]]])
    expect(judgeUpdate(base.doc, guarded(base), mallory, pendingDeletions)).toMatchObject({ ok: true })
    expect(judgeUpdate(base.doc, guarded(base), mallory, pendingDeletions.slice(), { ...DEFAULT_CAPS, maxPendingBytes: 4 })).toMatchObject({
      ok: false,
      error: {
        code: 'out_of_sync',
      },
    })
    // Once the document holds it pending, anyone's sync step 2 sends it back: that adds nothing, whatever the cap.
    Y.applyUpdate(base.doc, pendingDeletions)
    expect(base.doc.store.pendingDs).not.toBeNull()
    const input = {
      doc: base.doc,
      kind: 'comments' as const,
      actor: { userId: 'bob', role: 'comment' as const },
      places: new Places('comments'),
      ownerOf: (c: number) => base.owners.get(c),
      isBlocked: () => false,
    }
    expect(checkUpdate(input, pendingDeletions)).toMatchObject({ ok: true, value: { defers: false } })
    expect(
      judgeUpdate(base.doc, guarded(base), { userId: 'bob', role: 'comment' }, pendingDeletions.slice(), { ...DEFAULT_CAPS, maxPendingBytes: 4 }),
    ).toMatchObject({ ok: true })
  })

  it(`refuses more than ${limits.MAX_NEW_CLIENTS_PER_UPDATE} new client ids in one update, and blocks only those`, () => {
    const base = baseDocument()
    const refused = judgeUpdate(base.doc, guarded(base), mallory, manyClients(base, limits.MAX_NEW_CLIENTS_PER_UPDATE + 1).update)
    expect(refused).toMatchObject({ ok: false, error: { code: 'too_large', reason: expect.stringMatching(/new client ids/) } })
    expect(!refused.ok && refused.error.block.length).toBe(limits.MAX_NEW_CLIENTS_PER_UPDATE + 1)
    const taken = judgeUpdate(base.doc, guarded(base), mallory, manyClients(base, limits.MAX_NEW_CLIENTS_PER_UPDATE).update)
    expect(taken).toMatchObject({ ok: true })
    expect(taken.ok && taken.value.introduced.length).toBe(limits.MAX_NEW_CLIENTS_PER_UPDATE)
    // A chain over client ids the sender owns already introduces none.
    const owned = guarded(base)
    const chain = chainAcrossClients(base, 200, 40)
    owned.clients.bind(
      Y.decodeUpdate(chain.update).structs.map((s) => s.id.client),
      ATTACKER,
    )
    expect(judgeUpdate(base.doc, owned, mallory, chain.update)).toMatchObject({ ok: true, value: { introduced: [] } })
  })
})
