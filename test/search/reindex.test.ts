/**
 * Rebuilding the search index, per backend: `reindex` from scratch (the function and the
 * `parley reindex` command) gives exactly the live index; a crash between a write and its indexing
 * (the index behind the document, its mark behind the head) is repaired when the server starts.
 */
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import type { Storage } from '../../core/storage/types.ts'
import { reindex, type ReindexProgress } from '../../server/search/reindex.ts'
import { PostgresStorage } from '../../server/storage/postgres/index.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { CLI, cleanEnv, ROOT } from '../helpers/child.ts'
import { createTestSchema, type TestSchema } from '../helpers/postgres.ts'
import { TEST_API_KEY } from '../helpers/rest.ts'
import { newSecret } from '../helpers/tokens.ts'
import { openSynced, sdkClient } from '../helpers/sdk.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { waitFound, type Backend } from './helpers.ts'

const SUBJECTS = ['r1', 'r2']

/** One data location per test: a directory (SQLite) or a schema (PostgreSQL), opened as often as needed. */
interface Place {
  open(): Promise<Storage>
  env: Record<string, string>
  remove(): Promise<void>
}

async function place(backend: Backend): Promise<Place> {
  const dir = tempDir('parley-reindex-')
  if (backend === 'sqlite') {
    return { open: async () => SqliteStorage.inDataDir(dir), env: { PARLEY_DATA_DIR: dir }, remove: async () => rmSync(dir, { recursive: true, force: true }) }
  }
  const schema: TestSchema = await createTestSchema()
  return {
    open: () => PostgresStorage.open({ url: schema.url }),
    env: { PARLEY_DATA_DIR: dir, DATABASE_URL: schema.url },
    remove: async () => {
      rmSync(dir, { recursive: true, force: true })
      await schema.drop()
    },
  }
}

async function server(where: Place, dataDir: string, secret: string): Promise<TestServer> {
  return startServer({ apiKey: TEST_API_KEY, storage: await where.open(), dataDir, secret })
}

async function snapshotIndex(storage: Storage): Promise<unknown[]> {
  return Promise.all(SUBJECTS.map((subjectId) => storage.search.entries(subjectId)))
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`reindex: ${backend}`, () => {
    let where: Place
    let s: TestServer | undefined
    afterEach(async () => {
      await s?.stop()
      await where.remove()
    })

    it('from scratch equals the live index; a crash between write and indexing is repaired at start', async () => {
      where = await place(backend)
      const dataDir = tempDir('parley-reindex-data-')
      const secret = newSecret()
      s = await server(where, dataDir, secret)
      const token = await s.token('ana')
      const ana = await sdkClient(s, 'ana')
      const expected: string[] = []
      for (const subjectId of SUBJECTS) {
        const handle = await openSynced(ana, subjectId)
        const { threadId, commentId } = handle.createThread(`capybara ${subjectId} first`)
        expected.push(commentId, handle.reply(threadId, `capybara ${subjectId} second`).commentId)
        const gone = handle.reply(threadId, `capybara ${subjectId} deleted`).commentId
        handle.edit(threadId, commentId, `capybara ${subjectId} edited first`)
        handle.delete(threadId, gone)
        handle.close()
      }
      await waitFound(s, token, 'capybara', [...expected].sort())
      await waitFound(s, token, 'edited', [expected[0], expected[2]].map(String).sort())
      const live = await snapshotIndex(s.server.storage)

      // From scratch, in process, with progress.
      for (const subjectId of SUBJECTS) await s.server.storage.search.replaceSubject(subjectId, [])
      const progress: ReindexProgress[] = []
      expect(await reindex(s.server.storage, null, (p) => progress.push(p))).toEqual({ documents: 2, entries: 4 })
      expect(progress.map((p) => [p.done, p.total, p.documentName, p.entries])).toEqual([
        [1, 2, 'comments/r1', 2],
        [2, 2, 'comments/r2', 2],
      ])
      expect(await snapshotIndex(s.server.storage)).toEqual(live)
      await ana.close()
      await s.stop()

      // A crash between a write and its indexing: the index lacks r1's comments and its mark is behind.
      let storage = await where.open()
      await storage.search.replaceSubject('r1', [])
      await storage.search.setMark('comments/r1', 1)
      await storage.close()
      s = await server(where, dataDir, secret)
      await waitFound(s, token, 'capybara', [...expected].sort(), 10_000)
      expect(await snapshotIndex(s.server.storage)).toEqual(live)
      await s.stop()
      s = undefined

      // The command, from scratch, while no server runs.
      storage = await where.open()
      for (const subjectId of SUBJECTS) await storage.search.replaceSubject(subjectId, [])
      await storage.close()
      const run = spawnSync(process.execPath, [CLI, 'reindex'], { cwd: ROOT, env: cleanEnv(where.env), encoding: 'utf8', timeout: 30_000 })
      expect(run.stderr).toBe('')
      expect(run.status).toBe(0)
      expect(run.stdout).toContain('reindex: 1/2 comments/r1: 2 comments')
      expect(run.stdout).toContain('reindex: done, 2 documents, 4 comments indexed')
      const one = spawnSync(process.execPath, [CLI, 'reindex', 'r2'], { cwd: ROOT, env: cleanEnv(where.env), encoding: 'utf8', timeout: 30_000 })
      expect(one.stdout).toContain('reindex: 1/1 comments/r2: 2 comments')
      storage = await where.open()
      expect(await snapshotIndex(storage)).toEqual(live)
      await storage.close()
      rmSync(dataDir, { recursive: true, force: true })
    })
  })
}
