/** The local-store contract, run against every store. */
import { appendFileSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { FileStore, FILE_STORE_COMPACT_AFTER } from '../../client/stores/file.ts'
import { IndexedDbStore } from '../../client/stores/indexeddb.ts'
import { MemoryStore } from '../../client/stores/memory.ts'
import type { LocalStore } from '../../client/stores/types.ts'
import { tempDir } from '../helpers/server.ts'

interface StoreFactory {
  open(): LocalStore
  /** The same data opened again, as after an app restart (memory: the same instance). */
  reopen(previous: LocalStore): LocalStore
}

function textUpdates(count: number): { doc: Y.Doc; updates: Uint8Array[] } {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < count; i++) doc.getText('t').insert(doc.getText('t').length, `${i},`)
  return { doc, updates }
}

function contentOf(state: Uint8Array | null): string {
  const doc = new Y.Doc()
  if (state) Y.applyUpdate(doc, state)
  return doc.getText('t').toString()
}

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const factories: Record<string, () => StoreFactory> = {
  memory: () => ({ open: () => new MemoryStore(), reopen: (previous) => previous }),
  file: () => {
    const dir = tempDir('parley-filestore-')
    dirs.push(dir)
    return { open: () => new FileStore(dir), reopen: () => new FileStore(dir) }
  },
  indexeddb: () => {
    const factory = new IDBFactory()
    const name = `parley-${Math.random()}`
    return { open: () => new IndexedDbStore(name, factory), reopen: () => new IndexedDbStore(name, factory) }
  },
}

for (const [kind, make] of Object.entries(factories)) {
  describe(`local store contract: ${kind}`, () => {
    it('loads nothing for an unknown document', async () => {
      const store = make().open()
      expect(await store.load('comments/none')).toBeNull()
      await store.close()
    })

    it('keeps appended updates across a reopen, per document, past its compaction threshold', async () => {
      const factory = make()
      const store = factory.open()
      const { doc, updates } = textUpdates(FILE_STORE_COMPACT_AFTER + 50)
      await Promise.all(updates.map((u) => store.append('comments/a', u)))
      await store.append('comments/b', updates[0]!)
      await store.close()
      const again = factory.reopen(store)
      expect(contentOf(await again.load('comments/a'))).toBe(doc.getText('t').toString())
      expect(contentOf(await again.load('comments/b'))).toBe('0,')
      await again.close()
    })

    it('forgets a cleared document and only that one', async () => {
      const store = make().open()
      const { updates } = textUpdates(3)
      for (const u of updates) {
        await store.append('comments/a', u)
        await store.append('comments/b', u)
      }
      await store.clear('comments/a')
      expect(await store.load('comments/a')).toBeNull()
      expect(contentOf(await store.load('comments/b'))).toBe('0,1,2,')
      await store.close()
    })

    it('counts the updates beyond the acknowledged state vector, across a reopen, until cleared', async () => {
      const factory = make()
      const store = factory.open()
      const { doc, updates } = textUpdates(5)
      const deletion: Uint8Array[] = []
      doc.once('update', (u: Uint8Array) => deletion.push(u))
      doc.getText('t').delete(0, 1)
      const acknowledged = new Y.Doc()
      for (const u of updates.slice(0, 2)) {
        await store.append('comments/a', u)
        Y.applyUpdate(acknowledged, u)
      }
      // Nothing acknowledged yet: every stored update with a change counts.
      expect(await store.unacknowledged?.('comments/a')).toBe(2)
      await store.acknowledge?.('comments/a', Y.encodeStateVector(acknowledged))
      expect(await store.unacknowledged?.('comments/a')).toBe(0)
      for (const u of [...updates.slice(2), ...deletion]) await store.append('comments/a', u)
      await store.append('comments/b', updates[0]!)
      await store.close()
      const again = factory.reopen(store)
      // A deletion writes no clock: 3 updates beyond the vector, and the other document apart.
      expect(await again.unacknowledged?.('comments/a')).toBe(3)
      expect(await again.unacknowledged?.('comments/b')).toBe(1)
      await again.clear('comments/a')
      await again.append('comments/a', updates[0]!)
      // The acknowledged vector went with the clear: the first update counts again.
      expect(await again.unacknowledged?.('comments/a')).toBe(1)
      await again.close()
    })
  })
}

describe('file store', () => {
  it('drops a record cut short by a crash and keeps every record before it', async () => {
    const dir = tempDir('parley-filestore-')
    dirs.push(dir)
    const store = new FileStore(dir)
    const { updates } = textUpdates(5)
    for (const u of updates.slice(0, 3)) await store.append('comments/a', u)
    await store.close()
    const [file] = readdirSync(dir)
    // Half a record: a length header promising 100 bytes, and 3 of them.
    appendFileSync(path.join(dir, file!), Buffer.from([0, 0, 0, 100, 1, 2, 3]))
    const reopened = new FileStore(dir)
    expect(contentOf(await reopened.load('comments/a'))).toBe('0,1,2,')
    // Appends after the torn record are read back too.
    for (const u of updates.slice(3)) await reopened.append('comments/a', u)
    expect(contentOf(await new FileStore(dir).load('comments/a'))).toBe('0,1,2,3,4,')
  })
})

describe('IndexedDB store', () => {
  it('opens a database of version 1 (updates only): keeps its updates and adds the acknowledged vectors', async () => {
    const factory = new IDBFactory()
    const { updates } = textUpdates(2)
    const open = factory.open('parley-v1', 1)
    open.onupgradeneeded = () => open.result.createObjectStore('updates', { autoIncrement: true }).createIndex('doc', 'doc')
    const v1 = await new Promise<IDBDatabase>((resolve, reject) => {
      open.onsuccess = () => resolve(open.result)
      open.onerror = () => reject(open.error ?? new Error('open failed'))
    })
    const tx = v1.transaction('updates', 'readwrite')
    for (const update of updates) tx.objectStore('updates').add({ doc: 'comments/a', update })
    await new Promise<void>((resolve) => (tx.oncomplete = () => resolve()))
    v1.close()

    const store = new IndexedDbStore('parley-v1', factory)
    expect(contentOf(await store.load('comments/a'))).toBe('0,1,')
    expect(await store.unacknowledged('comments/a')).toBe(2)
    const doc = new Y.Doc()
    Y.applyUpdate(doc, (await store.load('comments/a'))!)
    await store.acknowledge('comments/a', Y.encodeStateVector(doc))
    expect(await store.unacknowledged('comments/a')).toBe(0)
    await store.close()
  })
})
