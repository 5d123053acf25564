/** Picks the storage backend the configuration asks for. */
import type { ParleyConfig } from '../config.ts'
import { SqliteStorage } from './sqlite/index.ts'
import type { Storage } from './types.ts'

export async function openStorage(config: Pick<ParleyConfig, 'dataDir' | 'databaseUrl'>): Promise<Storage> {
  if (config.databaseUrl) {
    throw new Error('DATABASE_URL: the PostgreSQL backend is not in this version yet; unset it to use SQLite')
  }
  return SqliteStorage.inDataDir(config.dataDir)
}
