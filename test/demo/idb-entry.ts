/** Bundled by indexeddb.test.ts for Chromium: the SDK's IndexedDB store and Yjs, on `globalThis.parleyIdb`. */
import * as Y from 'yjs'
import { IDB_COMPACT_AFTER, IndexedDbStore } from '../../client/stores/indexeddb.ts'

export interface IdbKit {
  Y: typeof Y
  IndexedDbStore: typeof IndexedDbStore
  IDB_COMPACT_AFTER: number
}

Object.assign(globalThis, { parleyIdb: { Y, IndexedDbStore, IDB_COMPACT_AFTER } satisfies IdbKit })
