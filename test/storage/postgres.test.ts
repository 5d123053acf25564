/** The shared storage contract against a real PostgreSQL: each storage gets its own schema. */
import { PostgresStorage } from '../../server/storage/postgres/index.ts'
import type { Storage } from '../../core/storage/types.ts'
import { createTestSchema, type TestSchema } from '../helpers/postgres.ts'
import { storageContract } from './contract.ts'

const schemas = new WeakMap<Storage, TestSchema>()

storageContract('postgres', {
  async open() {
    const schema = await createTestSchema()
    const storage = await PostgresStorage.open({ url: schema.url })
    schemas.set(storage, schema)
    return storage
  },
  async reopen(previous) {
    const schema = schemas.get(previous)
    if (!schema) throw new Error('unknown storage')
    await previous.close()
    const storage = await PostgresStorage.open({ url: schema.url })
    schemas.set(storage, schema)
    return storage
  },
  async destroy(storage) {
    await storage.close()
    await schemas.get(storage)?.drop()
  },
})
