/**
 * The guard's time per update on the worst shapes we can build, measured in process with
 * `performance.now` on the whole decision a socket update goes through (`judgeUpdate`: budget
 * scan, unseen part, the sender's pending structs, `checkUpdate`, caps), at the largest size the
 * limits allow. Each must stay under 50 ms; the best of five runs is taken, after two warm-up
 * runs (a cold JIT is paid once per process), so that a loaded machine (two cores shared by several test runs) does not decide.
 */
import { describe, expect, it } from 'vitest'
import { ClientRegistry } from '../../core/guard/clients.ts'
import { judgeUpdate, type GuardedDocument, type Judgement } from '../../core/guard/judge.ts'
import * as limits from '../../core/guard/limits.ts'
import { Places } from '../../core/guard/places.ts'
import { documentStructs } from '../../core/guard/update-index.ts'
import {
  ATTACKER,
  baseDocument,
  chainAcrossClients,
  chainInOneClient,
  concurrentInserts,
  concurrentKeyWrites,
  honestDeleteSet,
  manyClients,
  manyDeleteRanges,
  manyEntries,
  offlineSession,
  shapeClients,
  unknownOwnDeleteRanges,
  type Shape,
} from '../guard/hostile-shapes.ts'

const GUARD_MS = 50

/** The best of five runs (after two warm-ups), each on a fresh copy of the payload (nothing cached). */
function timed(shape: Shape, owned: number[] = []): { ms: number; judgement: Judgement } {
  const owners = new Map(shape.owners)
  for (const client of owned) owners.set(client, ATTACKER)
  const run = () => {
    const guarded: GuardedDocument = { kind: 'comments', places: new Places('comments'), clients: new ClientRegistry(new Map(owners)), bytes: 0 }
    const payload = shape.update.slice()
    const started = performance.now()
    const judgement = judgeUpdate(shape.doc, guarded, { userId: ATTACKER, role: 'comment' }, payload)
    return { ms: performance.now() - started, judgement }
  }
  run()
  run()
  const runs = [run(), run(), run(), run(), run()]
  return runs.reduce((best, r) => (r.ms < best.ms ? r : best))
}

/** Owned client ids so that a shape over `total` client ids introduces exactly the most an update may. */
const ownedOf = (total: number) => shapeClients(total).slice(limits.MAX_NEW_CLIENTS_PER_UPDATE)

describe(`guard time per update stays under ${GUARD_MS} ms on the worst shapes the limits allow`, () => {
  const base = baseDocument()
  const structs = limits.MAX_UPDATE_STRUCTS
  /** Structs that each write a map entry count twice: as many as the budget takes. */
  const entryStructs = Math.min(limits.MAX_UPDATE_ENTRIES, Math.floor(structs / 2))

  it.each<[string, () => Shape, number[], boolean]>([
    [
      `a chain of ${entryStructs} structs across ${limits.MAX_UPDATE_CLIENTS} client ids, ids ascending along the chain`,
      () => chainAcrossClients(base, entryStructs, limits.MAX_UPDATE_CLIENTS),
      ownedOf(limits.MAX_UPDATE_CLIENTS),
      true,
    ],
    [`a chain of ${structs - 2} structs in one client id (all but two overwritten)`, () => chainInOneClient(base, structs - 2), [], true],
    [`${entryStructs} tiny map entries`, () => manyEntries(base, entryStructs), [], true],
    [`${limits.MAX_UPDATE_CLIENTS} client ids`, () => manyClients(base, limits.MAX_UPDATE_CLIENTS), ownedOf(limits.MAX_UPDATE_CLIENTS), true],
    [
      `concurrent writes: ${Math.floor(entryStructs / limits.MAX_CONCURRENT_KEY_WRITES)} keys × ${limits.MAX_CONCURRENT_KEY_WRITES}`,
      () => concurrentKeyWrites(base, Math.floor(entryStructs / limits.MAX_CONCURRENT_KEY_WRITES), limits.MAX_CONCURRENT_KEY_WRITES),
      [],
      true,
    ],
    ['an SDK offline session of 500 comments (50 threads), as one sync step 2', () => offlineSession(base, 500, 10), [], true],
    ['an SDK offline session of 300 comments, each a new thread (the costliest shape per struct)', () => offlineSession(base, 300, 1), [], true],
    [
      `${limits.MAX_UPDATE_DELETE_RANGES} pending deletions of the sender's future clocks`,
      () => unknownOwnDeleteRanges(base, limits.MAX_UPDATE_DELETE_RANGES + documentStructs(base.doc), shapeClients(1)[0]!),
      shapeClients(1),
      true,
    ],
  ])('accepts %s', (_name, build, owned, accepted) => {
    const shape = build()
    const { ms, judgement } = timed(shape, owned)
    expect(judgement.ok, judgement.ok ? '' : judgement.error.reason).toBe(accepted)
    expect(ms).toBeLessThan(GUARD_MS)
  })

  it('takes an honest sync step 2 of a document with 20,000 deleted structs (its whole delete set)', () => {
    const shape = honestDeleteSet(base, 20_000)
    const { ms, judgement } = timed(shape)
    expect(judgement).toMatchObject({ ok: true, value: { bytes: 0 } })
    expect(ms).toBeLessThan(GUARD_MS)
  })

  it.each<[string, () => Shape, string]>([
    ['the freeze of issue 12: a chain across 20,000 fresh client ids (461 KiB)', () => chainAcrossClients(base, 20_000), 'client ids'],
    ['1 MiB of tiny map entries', () => manyEntries(base, 30_000), 'structs'],
    ['5,000 delete ranges, each over 2,000 deleted structs', () => manyDeleteRanges(base, 5_000), 'overlap'],
    [
      `${limits.MAX_CONCURRENT_KEY_WRITES * 250} concurrent writes of one key`,
      () => concurrentKeyWrites(base, 1, limits.MAX_CONCURRENT_KEY_WRITES * 250),
      'at most',
    ],
    [
      `${Math.min(structs, 9_000)} inserts at one place of a comment body (Yjs: quadratic)`,
      () => concurrentInserts(base, Math.min(structs, 9_000)),
      'at one place',
    ],
    ['a chain of 40,000 structs in one client id (the struct budget, before anything is decoded)', () => chainInOneClient(base, 40_000), 'structs'],
  ])('refuses %s', (_name, build, reason) => {
    const shape = build()
    const { ms, judgement } = timed(shape)
    expect(judgement).toMatchObject({ ok: false, error: { reason: expect.stringContaining(reason) } })
    expect(ms).toBeLessThan(GUARD_MS)
  })
})
