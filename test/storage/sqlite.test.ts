import { rmSync } from 'node:fs'
import path from 'node:path'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import type { Storage } from '../../core/storage/types.ts'
import { tempDir } from '../helpers/server.ts'
import { storageContract } from './contract.ts'

const dirs = new WeakMap<Storage, string>()

storageContract('sqlite', {
  async open() {
    const dir = tempDir('parley-sqlite-')
    const storage = SqliteStorage.inDataDir(dir)
    dirs.set(storage, dir)
    return storage
  },
  async reopen(previous) {
    const dir = dirs.get(previous)
    if (!dir) throw new Error('unknown storage')
    await previous.close()
    const storage = new SqliteStorage(path.join(dir, 'parley.db'))
    dirs.set(storage, dir)
    return storage
  },
  async destroy(storage) {
    await storage.close()
    const dir = dirs.get(storage)
    if (dir) rmSync(dir, { recursive: true, force: true })
  },
})
