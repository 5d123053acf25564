/**
 * The storage contract: one suite that every backend runs (see sqlite.test.ts, postgres.test.ts).
 * It speaks only through the Storage interface, with real Yjs updates. Subjects, membership and
 * users are in access-contract.ts, which this suite runs too.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { mergeUpdates } from '../../core/documents/updates.ts'
import type { Storage } from '../../core/storage/types.ts'
import { accessContract } from './access-contract.ts'
import { clientOwnerContract } from './client-owners-contract.ts'
import { preferencesContract } from './preferences-contract.ts'
import { notificationContract } from './notifications-contract.ts'
import { reactionContract } from './reactions-contract.ts'
import { searchContract } from './search-contract.ts'
import { feedsContract } from './feeds-contract.ts'
import { contactsContract } from './contacts-contract.ts'
import { webhooksContract } from './webhooks-contract.ts'
import { moderationContract } from './moderation-contract.ts'

export interface BackendFactory {
  /** A fresh, empty storage. */
  open(): Promise<Storage>
  /** Opens the same data again (a restart); used to check what survives a close. */
  reopen(previous: Storage): Promise<Storage>
  /** Removes what `open` created. */
  destroy(storage: Storage): Promise<void>
}

function textUpdates(count: number): { doc: Y.Doc; updates: Uint8Array[] } {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < count; i++) doc.getText('t').insert(doc.getText('t').length, `${i},`)
  return { doc, updates }
}

function rebuild(snapshot: Uint8Array | null, log: Array<{ data: Uint8Array }>): Y.Doc {
  const doc = new Y.Doc()
  if (snapshot) Y.applyUpdate(doc, snapshot)
  for (const row of log) Y.applyUpdate(doc, row.data)
  return doc
}

export function storageContract(name: string, factory: BackendFactory): void {
  describe(`storage contract: ${name}`, () => {
    let storage: Storage
    const docName = 'comments/contract'

    beforeEach(async () => {
      storage = await factory.open()
    })
    afterEach(async () => {
      await factory.destroy(storage)
    })

    it('answers ping', async () => {
      await expect(storage.ping()).resolves.toBeUndefined()
    })

    it('loads an unknown document as empty', async () => {
      const stored = await storage.documents.load('comments/never-written')
      expect(stored.snapshot).toBeNull()
      expect(stored.log).toEqual([])
    })

    it('appends in order with strictly growing seq, per document', async () => {
      const { updates } = textUpdates(5)
      const seqs: number[] = []
      for (const u of updates) seqs.push(await storage.documents.append(docName, u))
      await storage.documents.append('comments/other', updates[0]!)
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
      expect(new Set(seqs).size).toBe(5)
      const stored = await storage.documents.load(docName)
      expect(stored.log.map((r) => r.seq)).toEqual(seqs)
      expect(stored.log.map((r) => Buffer.from(r.data).toString('hex'))).toEqual(updates.map((u) => Buffer.from(u).toString('hex')))
      expect((await storage.documents.load('comments/other')).log).toHaveLength(1)
    })

    it('keeps appended updates across a close and reopen', async () => {
      const { doc, updates } = textUpdates(20)
      for (const u of updates) await storage.documents.append(docName, u)
      storage = await factory.reopen(storage)
      const stored = await storage.documents.load(docName)
      expect(rebuild(stored.snapshot, stored.log).getText('t').toString()).toBe(doc.getText('t').toString())
    })

    it('compacts snapshot and log into one snapshot with the same content', async () => {
      const { doc, updates } = textUpdates(30)
      for (const u of updates.slice(0, 10)) await storage.documents.append(docName, u)
      const first = await storage.documents.compact(docName, mergeUpdates)
      expect(first.mergedRows).toBe(10)
      for (const u of updates.slice(10)) await storage.documents.append(docName, u)
      const second = await storage.documents.compact(docName, mergeUpdates)
      expect(second.mergedRows).toBe(20)
      const stored = await storage.documents.load(docName)
      expect(stored.log).toEqual([])
      expect(stored.snapshot).not.toBeNull()
      expect(rebuild(stored.snapshot, stored.log).getText('t').toString()).toBe(doc.getText('t').toString())
    })

    it('compacting an empty log changes nothing', async () => {
      const result = await storage.documents.compact('comments/empty', mergeUpdates)
      expect(result.mergedRows).toBe(0)
      expect((await storage.documents.load('comments/empty')).snapshot).toBeNull()
    })

    it('continues seq after compaction, so appends after it are never taken for merged ones', async () => {
      const { doc, updates } = textUpdates(6)
      let last = 0
      for (const u of updates.slice(0, 3)) last = await storage.documents.append(docName, u)
      await storage.documents.compact(docName, mergeUpdates)
      const next = await storage.documents.append(docName, updates[3]!)
      expect(next).toBeGreaterThan(last)
      for (const u of updates.slice(4)) await storage.documents.append(docName, u)
      const stored = await storage.documents.load(docName)
      expect(stored.log).toHaveLength(3)
      expect(rebuild(stored.snapshot, stored.log).getText('t').toString()).toBe(doc.getText('t').toString())
    })

    it('keeps structs whose dependencies are missing (pending) through compaction', async () => {
      const { doc, updates } = textUpdates(4)
      // Leave out update 1: updates 2 and 3 cannot integrate without it.
      for (const i of [0, 2, 3]) await storage.documents.append(docName, updates[i]!)
      await storage.documents.compact(docName, mergeUpdates)
      await storage.documents.append(docName, updates[1]!)
      const stored = await storage.documents.load(docName)
      expect(rebuild(stored.snapshot, stored.log).getText('t').toString()).toBe(doc.getText('t').toString())
    })

    it('loses no append made while compactions run', async () => {
      const { doc, updates } = textUpdates(60)
      const appends = updates.map((u) => storage.documents.append(docName, u))
      const compactions = [0, 1, 2, 3].map(() => storage.documents.compact(docName, mergeUpdates))
      await Promise.all([...appends, ...compactions])
      await storage.documents.compact(docName, mergeUpdates)
      const stored = await storage.documents.load(docName)
      expect(rebuild(stored.snapshot, stored.log).getText('t').toString()).toBe(doc.getText('t').toString())
    })

    it('quarantines a log row: it leaves the log and is kept with its reason', async () => {
      const { updates } = textUpdates(3)
      const seqs: number[] = []
      for (const u of updates) seqs.push(await storage.documents.append(docName, u))
      await storage.documents.quarantine(docName, seqs[1]!, 'cannot apply')
      const stored = await storage.documents.load(docName)
      expect(stored.log.map((r) => r.seq)).toEqual([seqs[0], seqs[2]])
      const kept = await storage.documents.listQuarantined(docName)
      expect(kept).toHaveLength(1)
      expect(kept[0]?.reason).toBe('cannot apply')
      expect(Buffer.from(kept[0]!.data).equals(Buffer.from(updates[1]!))).toBe(true)
    })

    it('replaces a document: load returns exactly the new snapshot and no log', async () => {
      const { updates } = textUpdates(5)
      for (const u of updates.slice(0, 3)) await storage.documents.append(docName, u)
      await storage.documents.compact(docName, mergeUpdates)
      let last = 0
      for (const u of updates.slice(3)) last = await storage.documents.append(docName, u)
      const fresh = textUpdates(2)
      const snapshot = Y.encodeStateAsUpdate(fresh.doc)
      await storage.documents.replace(docName, snapshot)
      const stored = await storage.documents.load(docName)
      expect(stored.log).toEqual([])
      expect(Buffer.from(stored.snapshot!).equals(Buffer.from(snapshot))).toBe(true)
      expect(await storage.documents.storedBytes(docName)).toBe(snapshot.byteLength)

      // Appends continue past every seq used before the replacement, and load in order.
      const later = textUpdates(3)
      const seqs: number[] = []
      for (const u of later.updates) seqs.push(await storage.documents.append(docName, u))
      expect(seqs[0]).toBeGreaterThan(last)
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
      const after = await storage.documents.load(docName)
      expect(after.log.map((r) => r.seq)).toEqual(seqs)
      expect(Buffer.from(after.snapshot!).equals(Buffer.from(snapshot))).toBe(true)
      expect(rebuild(null, after.log).getText('t').toString()).toBe(later.doc.getText('t').toString())
      expect(await storage.documents.storedBytes(docName)).toBe(snapshot.byteLength + later.updates.reduce((sum, u) => sum + u.byteLength, 0))
    })

    it('replaces a document that was never written', async () => {
      expect(await storage.documents.storedBytes('comments/new')).toBe(0)
      const { doc } = textUpdates(2)
      const snapshot = Y.encodeStateAsUpdate(doc)
      await storage.documents.replace('comments/new', snapshot)
      const stored = await storage.documents.load('comments/new')
      expect(stored.log).toEqual([])
      expect(rebuild(stored.snapshot, stored.log).getText('t').toString()).toBe(doc.getText('t').toString())
      const seq = await storage.documents.append('comments/new', textUpdates(1).updates[0]!)
      expect(seq).toBeGreaterThan(0)
      expect((await storage.documents.load('comments/new')).log.map((r) => r.seq)).toEqual([seq])
    })

    it('loses no append made while a replacement runs: each lands before it (gone) or after it (kept)', async () => {
      const { updates } = textUpdates(30)
      const snapshot = Y.encodeStateAsUpdate(textUpdates(1).doc)
      const appends = updates.map((u) => storage.documents.append(docName, u))
      const replaced = storage.documents.replace(docName, snapshot)
      const seqs = await Promise.all(appends)
      await replaced
      const stored = await storage.documents.load(docName)
      expect(new Set(seqs).size).toBe(seqs.length)
      const kept = stored.log.map((r) => r.seq)
      // The kept rows are exactly the appends with the highest seqs, in order.
      expect(kept).toEqual([...seqs].sort((a, b) => a - b).slice(seqs.length - kept.length))
      expect(Buffer.from(stored.snapshot!).equals(Buffer.from(snapshot))).toBe(true)
    })

    it('refuses calls after close', async () => {
      await storage.close()
      await expect(storage.documents.append(docName, new Uint8Array([0, 0]))).rejects.toThrow()
      storage = await factory.reopen(storage)
    })
  })
  accessContract(name, factory)
  clientOwnerContract(name, factory)
  notificationContract(name, factory)
  reactionContract(name, factory)
  preferencesContract(name, factory)
  searchContract(name, factory)
  feedsContract(name, factory)
  moderationContract(name, factory)
  webhooksContract(name, factory)
  contactsContract(name, factory)
}
