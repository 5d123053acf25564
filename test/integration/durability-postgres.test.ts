/**
 * The kill -9 durability check of durability.test.ts, with DATABASE_URL: the server is a child
 * process (`node server/bin/parley.ts serve`) storing in PostgreSQL (a schema of this file's own).
 */
import { rmSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStorage } from '../../server/storage/postgres/index.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { addComment, addThread, commentTexts, rebuild } from '../helpers/comments.ts'
import { createTestSchema, type TestSchema } from '../helpers/postgres.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { tempDir } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'

/** Updates written one by one, each acknowledged, before the kill. */
const UPDATES = 500

describe('durability across kill -9 (PostgreSQL)', () => {
  let schema: TestSchema | undefined
  const children: ChildServer[] = []
  const clients: TestClient[] = []
  const dirs: string[] = []

  beforeAll(async () => {
    schema = await createTestSchema()
  })
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy()
    for (const child of children.splice(0)) child.process.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  afterAll(async () => {
    await schema?.drop()
  })

  it(`keeps all ${UPDATES} acknowledged updates when the server is killed with SIGKILL`, async () => {
    if (!schema) throw new Error('no schema')
    const dataDir = tempDir()
    dirs.push(dataDir)
    const secret = newSecret()
    const env = { PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret, DATABASE_URL: schema.url }
    const name = 'comments/kill9'

    const first = await startChild(env)
    children.push(first)
    expect(first.output()).toContain('"storage":"postgres"')
    const writer = await connectSynced(first.webSocketUrl, name, await tokenFor(secret, 'ana'))
    clients.push(writer)
    addThread(writer.doc, 't1', 'ana')
    await acknowledged(writer)
    for (let i = 0; i < UPDATES; i++) {
      addComment(writer.doc, 't1', `c${i}`, 'ana', `update ${i}`)
      await acknowledged(writer)
    }
    first.process.kill('SIGKILL')
    expect(await first.exited).toBeNull() // killed by a signal, not exited
    writer.destroy()

    const expected = Array.from({ length: UPDATES }, (_, i) => `update ${i}`)
    const second = await startChild(env)
    children.push(second)
    const reader = await connectSynced(second.webSocketUrl, name, await tokenFor(secret, 'ben'))
    clients.push(reader)
    expect(commentTexts(reader.doc, 't1')).toEqual(expected)

    // And straight from the database, not through a server.
    const storage = await PostgresStorage.open({ url: schema.url })
    try {
      expect(commentTexts(rebuild(await storage.documents.load(name)), 't1')).toEqual(expected)
    } finally {
      await storage.close()
    }
  }, 90_000)
})
