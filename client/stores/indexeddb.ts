/**
 * A local store in IndexedDB, for browsers: one database, one object store of
 * `{ doc, update }` records with an index on `doc`; a document's records are merged into one
 * once there are {@link IDB_COMPACT_AFTER} of them. A second object store keeps, per document
 * (the key), the server's acknowledged state vector; version 2 of the database added it.
 */
import * as Y from 'yjs'
import { countUnacknowledged } from './acknowledged.ts'
import type { LocalStore } from './types.ts'

/** Records after which a document's updates are merged into one record. */
export const IDB_COMPACT_AFTER = 200

const STORE = 'updates'
const BY_DOC = 'doc'
const ACKNOWLEDGED = 'acknowledged'
/** Version 1: updates only; version 2: the acknowledged state vectors. */
const DB_VERSION = 2

interface UpdateRecord {
  doc: string
  update: Uint8Array
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'))
  })
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'))
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'))
  })
}

export class IndexedDbStore implements LocalStore {
  private readonly db: Promise<IDBDatabase>

  /** `factory` defaults to the browser's `indexedDB`. */
  constructor(databaseName = 'parley', factory: IDBFactory = globalThis.indexedDB) {
    const open = factory.open(databaseName, DB_VERSION)
    open.onupgradeneeded = () => {
      const db = open.result
      if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { autoIncrement: true }).createIndex(BY_DOC, 'doc')
      if (!db.objectStoreNames.contains(ACKNOWLEDGED)) db.createObjectStore(ACKNOWLEDGED)
    }
    this.db = request(open)
  }

  private async records(documentName: string): Promise<{ keys: IDBValidKey[]; updates: Uint8Array[] }> {
    const tx = (await this.db).transaction(STORE, 'readonly')
    const index = tx.objectStore(STORE).index(BY_DOC)
    const [keys, values] = await Promise.all([request(index.getAllKeys(documentName)), request(index.getAll(documentName))])
    return { keys, updates: (values as UpdateRecord[]).map((r) => r.update) }
  }

  async load(documentName: string): Promise<Uint8Array | null> {
    const { updates } = await this.records(documentName)
    return updates.length ? Y.mergeUpdates(updates) : null
  }

  async append(documentName: string, update: Uint8Array): Promise<void> {
    const tx = (await this.db).transaction(STORE, 'readwrite')
    const store = tx.objectStore(STORE)
    store.add({ doc: documentName, update } satisfies UpdateRecord)
    const count = await request(store.index(BY_DOC).count(documentName))
    await done(tx)
    if (count >= IDB_COMPACT_AFTER) await this.compact(documentName)
  }

  async acknowledge(documentName: string, stateVector: Uint8Array): Promise<void> {
    const tx = (await this.db).transaction(ACKNOWLEDGED, 'readwrite')
    tx.objectStore(ACKNOWLEDGED).put(stateVector, documentName)
    await done(tx)
  }

  async unacknowledged(documentName: string): Promise<number> {
    const tx = (await this.db).transaction([STORE, ACKNOWLEDGED], 'readonly')
    const [values, acknowledged] = await Promise.all([
      request(tx.objectStore(STORE).index(BY_DOC).getAll(documentName)),
      request(tx.objectStore(ACKNOWLEDGED).get(documentName)),
    ])
    const updates = (values as UpdateRecord[]).map((r) => r.update)
    return countUnacknowledged(updates, acknowledged instanceof Uint8Array ? acknowledged : null)
  }

  private async compact(documentName: string): Promise<void> {
    const { keys, updates } = await this.records(documentName)
    if (updates.length < 2) return
    const tx = (await this.db).transaction(STORE, 'readwrite')
    const store = tx.objectStore(STORE)
    for (const key of keys) store.delete(key)
    store.add({ doc: documentName, update: Y.mergeUpdates(updates) } satisfies UpdateRecord)
    await done(tx)
  }

  async clear(documentName: string): Promise<void> {
    const { keys } = await this.records(documentName)
    const tx = (await this.db).transaction([STORE, ACKNOWLEDGED], 'readwrite')
    const store = tx.objectStore(STORE)
    for (const key of keys) store.delete(key)
    tx.objectStore(ACKNOWLEDGED).delete(documentName)
    await done(tx)
  }

  async close(): Promise<void> {
    ;(await this.db).close()
  }
}
