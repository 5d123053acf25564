/**
 * Two Parley processes (no Redis) on one PostgreSQL schema, each with a client writing to the
 * same document, while a third party compacts that document in a loop and both servers compact it
 * themselves once their log is long enough. Afterwards a fresh server, and the database itself,
 * hold every acknowledged update of both clients.
 */
import { rmSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { COMPACT_AFTER_ROWS } from '../../extensions/durability/index.ts'
import { mergeUpdates } from '../../core/documents/updates.ts'
import { PostgresStorage } from '../../server/storage/postgres/index.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { addComment, addThread, commentTexts, rebuild } from '../helpers/comments.ts'
import { createTestSchema, type TestSchema } from '../helpers/postgres.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { tempDir } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

/** Comments each client writes: enough for its server to compact on its own. */
const UPDATES = COMPACT_AFTER_ROWS + 50

async function compactions(child: ChildServer): Promise<number> {
  const text = await (await fetch(`${child.httpUrl}/metrics`)).text()
  return Number(/^parley_storage_compaction_seconds_count (\d+)/m.exec(text)?.[1] ?? 0)
}

async function writeComments(client: TestClient, threadId: string, userId: string): Promise<void> {
  addThread(client.doc, threadId, userId)
  await acknowledged(client)
  for (let i = 0; i < UPDATES; i++) {
    addComment(client.doc, threadId, `${threadId}-${i}`, userId, `${threadId} ${i}`)
    await acknowledged(client)
  }
}

describe('two servers on one PostgreSQL database', () => {
  let schema: TestSchema | undefined
  let outsider: PostgresStorage | undefined
  const children: ChildServer[] = []
  const clients: TestClient[] = []
  const dirs: string[] = []

  beforeAll(async () => {
    schema = await createTestSchema()
  })
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    for (const child of children.splice(0)) child.process.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
    await outsider?.close()
  })
  afterAll(async () => {
    await schema?.drop()
  })

  it('keeps every update of both when both append and compact one document', async () => {
    if (!schema) throw new Error('no schema')
    const secret = newSecret()
    const envFor = () => {
      const dataDir = tempDir()
      dirs.push(dataDir)
      return { PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret, DATABASE_URL: schema!.url }
    }
    const name = 'comments/shared'
    // Started together: both run the migrations at once (the advisory lock orders them).
    const [one, two] = await Promise.all([startChild(envFor()), startChild(envFor())])
    children.push(one, two)
    const ana = await connectSynced(one.webSocketUrl, name, await tokenFor(secret, 'ana'))
    const ben = await connectSynced(two.webSocketUrl, name, await tokenFor(secret, 'ben'))
    clients.push(ana, ben)

    outsider = await PostgresStorage.open({ url: schema.url })
    let writing = true
    let merged = 0
    const compactor = (async () => {
      while (writing) merged += (await outsider.documents.compact(name, mergeUpdates)).mergedRows
    })()
    await Promise.all([writeComments(ana, 'ta', 'ana'), writeComments(ben, 'tb', 'ben')]).finally(() => (writing = false))
    await compactor
    expect(merged).toBeGreaterThan(0)
    // Each server compacts from onStoreDocument once it appended COMPACT_AFTER_ROWS rows.
    await waitFor(async () => (await compactions(one)) > 0 && (await compactions(two)) > 0, 'both servers compacted', 30_000)

    for (const child of children) child.process.kill('SIGKILL')
    await Promise.all(children.map((child) => child.exited))

    const expected = (thread: string) => Array.from({ length: UPDATES }, (_, i) => `${thread} ${i}`)
    const stored = rebuild(await outsider.documents.load(name))
    expect(commentTexts(stored, 'ta')).toEqual(expected('ta'))
    expect(commentTexts(stored, 'tb')).toEqual(expected('tb'))

    const third = await startChild(envFor())
    children.push(third)
    const reader = await connectSynced(third.webSocketUrl, name, await tokenFor(secret, 'cy'))
    clients.push(reader)
    expect(commentTexts(reader.doc, 'ta')).toEqual(expected('ta'))
    expect(commentTexts(reader.doc, 'tb')).toEqual(expected('tb'))
  }, 120_000)
})
