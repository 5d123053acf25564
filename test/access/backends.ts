/**
 * The storage backends the access tests run against: SQLite in a temporary directory and
 * PostgreSQL in a fresh schema of the shared database.
 */
import { rmSync } from 'node:fs'
import { PostgresStorage } from '../../server/storage/postgres/index.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import type { Storage } from '../../core/storage/types.ts'
import { createTestSchema } from '../helpers/postgres.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import type { ParleyServerOptions } from '../../server/server.ts'

export interface Backend {
  name: 'sqlite' | 'postgres'
  /** A fresh, empty storage and how to remove it. */
  openStorage(): Promise<{ storage: Storage; dispose(): Promise<void> }>
  /** A test server on a fresh, empty storage of this kind. */
  startServer(options?: ParleyServerOptions): Promise<TestServer>
}

export const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    async openStorage() {
      const dir = tempDir('parley-access-')
      const storage = SqliteStorage.inDataDir(dir)
      return {
        storage,
        async dispose() {
          await storage.close()
          rmSync(dir, { recursive: true, force: true })
        },
      }
    },
    startServer: (options = {}) => startServer(options),
  },
  {
    name: 'postgres',
    async openStorage() {
      const schema = await createTestSchema()
      const storage = await PostgresStorage.open({ url: schema.url })
      return {
        storage,
        async dispose() {
          await storage.close()
          await schema.drop()
        },
      }
    },
    async startServer(options = {}) {
      const schema = await createTestSchema()
      const s = await startServer({ ...options, databaseUrl: schema.url })
      const dispose = s.dispose
      return {
        ...s,
        async dispose() {
          await dispose()
          await schema.drop()
        },
      }
    },
  },
]
