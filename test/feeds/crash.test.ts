/**
 * Exactly once across kill -9: the server kills itself (PARLEY_FAULT, test-only) right after a
 * thread's feed activity was recorded and before any feed got it (`feed-after-record`: the
 * fan-out resumes from storage), or after the thread was acknowledged and before its activity was
 * recorded (`feed-before-record`: the startup sweep loads the document and its recent comments are
 * recorded). After the restart the follower's feed holds the item exactly once, and the author
 * coming back (the document loads again) repeats nothing. On SQLite and PostgreSQL.
 */
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createThread, readFeed, setFollowing } from '../../protocol/index.ts'
import type { Storage } from '../../core/storage/types.ts'
import { PostgresStorage } from '../../server/storage/postgres/index.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { createTestSchema, type TestSchema } from '../helpers/postgres.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { TEST_API_KEY } from '../helpers/rest.ts'
import { tempDir } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

const FAULTS = ['feed-after-record', 'feed-before-record'] as const

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`feeds across kill -9: ${backend}`, () => {
    const children: ChildServer[] = []
    const clients: TestClient[] = []
    const dirs: string[] = []
    const schemas: TestSchema[] = []
    afterEach(async () => {
      for (const c of clients.splice(0)) c.destroy()
      for (const child of children.splice(0)) child.process.kill('SIGKILL')
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
      for (const schema of schemas.splice(0)) await schema.drop()
    })

    it.each(FAULTS)(
      '%s: the restart fans out once',
      async (fault) => {
        const dataDir = tempDir()
        dirs.push(dataDir)
        const secret = newSecret()
        const env: Record<string, string> = { PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret, PARLEY_API_KEY: TEST_API_KEY }
        if (backend === 'postgres') {
          const schema = await createTestSchema()
          schemas.push(schema)
          env.DATABASE_URL = schema.url
        }
        const openStorage = (): Promise<Storage> =>
          env.DATABASE_URL ? PostgresStorage.open({ url: env.DATABASE_URL }) : Promise.resolve(new SqliteStorage(path.join(dataDir, 'parley.db')))

        const first = await startChild({ ...env, PARLEY_FAULT: fault })
        children.push(first)
        const registered = await fetch(`${first.httpUrl}/api/v1/subjects/crash`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ defaultRole: 'comment' }),
        })
        expect(registered.status).toBe(200)
        // Following records no feed activity: the process lives on until the thread starts.
        const ben = await connectSynced(first.webSocketUrl, 'comments/crash', await tokenFor(secret, 'ben'))
        clients.push(ben)
        setFollowing({ doc: ben.doc, userId: 'ben' }, true)
        await acknowledged(ben)
        const ana = await connectSynced(first.webSocketUrl, 'comments/crash', await tokenFor(secret, 'ana'))
        clients.push(ana)
        await waitFor(() => ana.doc.getMap('followers').get('ben') === 'follower', 'ana sees ben follow')
        createThread({ doc: ana.doc, userId: 'ana' }, 'a new topic')
        await acknowledged(ana)
        expect(await first.exited).toBeNull()
        for (const c of clients.splice(0)) c.destroy()

        const dead = await openStorage()
        const pending = await dead.feeds.pending(10)
        const recorded = fault === 'feed-after-record' ? [['thread', 0, ['subject:crash', 'user:ben']]] : []
        expect(pending.map((p) => [p.activity.type, p.cursor, p.activity.feeds])).toEqual(recorded)
        expect(await dead.feeds.list('user:ben', { limit: 10, after: null })).toEqual([])
        await dead.close()

        const second = await startChild(env)
        children.push(second)
        const feed = await connectSynced(second.webSocketUrl, 'feed/user:ben', await tokenFor(secret, 'ben'))
        clients.push(feed)
        await waitFor(() => readFeed(feed.doc).length === 1, 'the thread in ben’s feed after the restart', 15_000)
        expect(readFeed(feed.doc)[0]).toMatchObject({ type: 'thread', actorIds: ['ana'], count: 1 })
        // The author comes back: the document loads again; nothing repeats.
        const again = await connectSynced(second.webSocketUrl, 'comments/crash', await tokenFor(secret, 'ana'))
        clients.push(again)
        const listed = async () => {
          const answer = await fetch(`${second.httpUrl}/api/v1/feeds/user:ben/items`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } })
          return ((await answer.json()) as { items: Array<{ type: string; count: number }> }).items
        }
        await waitFor(async () => (await listed()).length === 1, 'one item over REST')
        expect(await listed()).toMatchObject([{ type: 'thread', count: 1 }])
        expect(readFeed(feed.doc)).toHaveLength(1)
      },
      60_000,
    )
  })
}
