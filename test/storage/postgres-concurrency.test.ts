/**
 * Two PostgresStorage instances (two pools, as two Parley processes would have) on one database
 * append to and compact the same document at the same time. Afterwards the document rebuilt from
 * storage holds every update, and every append got its own seq.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { mergeUpdates } from '../../core/documents/updates.ts'
import { PostgresStorage } from '../../server/storage/postgres/index.ts'
import { createTestSchema, type TestSchema } from '../helpers/postgres.ts'

/** Updates each instance appends. */
const UPDATES_PER_INSTANCE = 300
/** Appends each instance keeps in flight at once (so several connections of one pool race too). */
const LANES = 4

/** `count` single-item updates to the root array `key`, from a writer of its own. */
function writerUpdates(key: string, count: number): Uint8Array[] {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  for (let i = 0; i < count; i++) doc.getArray<number>(key).push([i])
  return updates
}

interface Outcome {
  seqs: number[]
  /** Per lane, the seqs in the order the lane awaited them. */
  lanes: number[][]
  merged: number
}

async function appendAndCompact(storage: PostgresStorage, name: string, updates: Uint8Array[]): Promise<Outcome> {
  const outcome: Outcome = { seqs: [], lanes: [], merged: 0 }
  let appending = true
  const lanes = Array.from({ length: LANES }, async (_, lane) => {
    const seen: number[] = []
    outcome.lanes.push(seen)
    for (let i = lane; i < updates.length; i += LANES) {
      const seq = await storage.documents.append(name, updates[i]!)
      seen.push(seq)
      outcome.seqs.push(seq)
    }
  })
  const compactor = (async () => {
    while (appending) outcome.merged += (await storage.documents.compact(name, mergeUpdates)).mergedRows
  })()
  await Promise.all(lanes).finally(() => (appending = false))
  await compactor
  return outcome
}

describe('postgres: two instances writing one document', () => {
  let schema: TestSchema
  const opened: PostgresStorage[] = []
  const open = async () => {
    const storage = await PostgresStorage.open({ url: schema.url })
    opened.push(storage)
    return storage
  }

  beforeAll(async () => {
    schema = await createTestSchema()
  })
  afterAll(async () => {
    await Promise.all(opened.map((storage) => storage.close()))
    await schema?.drop()
  })

  it('loses no update and repeats no seq while both append and compact', async () => {
    // Both start at once: the second waits on the migration lock, then finds the schema ready.
    const [first, second] = await Promise.all([open(), open()])
    const name = 'comments/contended'
    const a = writerUpdates('a', UPDATES_PER_INSTANCE)
    const b = writerUpdates('b', UPDATES_PER_INSTANCE)

    const [fromFirst, fromSecond] = await Promise.all([appendAndCompact(first, name, a), appendAndCompact(second, name, b)])
    await Promise.all([first.documents.compact(name, mergeUpdates), second.documents.compact(name, mergeUpdates)])

    const seqs = [...fromFirst.seqs, ...fromSecond.seqs]
    expect(new Set(seqs).size).toBe(2 * UPDATES_PER_INSTANCE)
    for (const lane of [...fromFirst.lanes, ...fromSecond.lanes]) expect(lane).toEqual([...lane].sort((x, y) => x - y))
    // The test means something only if compactions really ran in between appends.
    expect(fromFirst.merged + fromSecond.merged).toBeGreaterThan(0)

    const reader = await open()
    const stored = await reader.documents.load(name)
    expect(stored.log).toEqual([])
    const doc = new Y.Doc()
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
    for (const row of stored.log) Y.applyUpdate(doc, row.data)
    const expected = Array.from({ length: UPDATES_PER_INSTANCE }, (_, i) => i)
    expect(doc.getArray('a').toArray()).toEqual(expected)
    expect(doc.getArray('b').toArray()).toEqual(expected)

    // Seqs continue after the merged ones.
    const next = await reader.documents.append(name, a[0]!)
    expect(next).toBeGreaterThan(Math.max(...seqs))
  })
})
