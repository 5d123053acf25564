/**
 * Reactions across kill -9, like comments (crash.test.ts): the server kills itself right after a
 * reaction's feed activity was recorded (`feed-after-record`: the fan-out resumes from storage), or
 * after the reaction was acknowledged and before its activity was recorded (`feed-before-record`:
 * the startup sweep loads the document and its recent reactions are recorded again). After the
 * restart the comment author's feed holds the reaction exactly once, and the document loading
 * again repeats nothing. On SQLite and PostgreSQL.
 */
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createThread, react, readFeed, setFollowing } from '../../protocol/index.ts'
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

async function listed(httpUrl: string, feedId: string): Promise<Array<{ type: string; count: number; actorIds: string[] }>> {
  const answer = await fetch(`${httpUrl}/api/v1/feeds/${feedId}/items`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } })
  return ((await answer.json()) as { items: Array<{ type: string; count: number; actorIds: string[] }> }).items
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`feed reactions across kill -9: ${backend}`, () => {
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
      '%s: the restart puts the reaction in the author’s feed once',
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

        // Ben follows and starts a thread on a server without faults; its fan-out finishes.
        const first = await startChild(env)
        children.push(first)
        const registered = await fetch(`${first.httpUrl}/api/v1/subjects/crash`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ defaultRole: 'comment' }),
        })
        expect(registered.status).toBe(200)
        const ben = await connectSynced(first.webSocketUrl, 'comments/crash', await tokenFor(secret, 'ben'))
        clients.push(ben)
        setFollowing({ doc: ben.doc, userId: 'ben' }, true)
        const { threadId, commentId } = createThread({ doc: ben.doc, userId: 'ben' }, 'react to this')
        await acknowledged(ben)
        await waitFor(async () => (await listed(first.httpUrl, 'subject:crash')).length === 1, 'the thread fanned out', 15_000)
        for (const c of clients.splice(0)) c.destroy()
        first.process.kill('SIGKILL')
        await first.exited

        // Ana reacts on a server that dies at the fault point, after acknowledging the reaction.
        const second = await startChild({ ...env, PARLEY_FAULT: fault })
        children.push(second)
        const ana = await connectSynced(second.webSocketUrl, 'comments/crash', await tokenFor(secret, 'ana'))
        clients.push(ana)
        react({ doc: ana.doc, userId: 'ana' }, threadId, commentId, '🎉')
        await acknowledged(ana)
        expect(await second.exited).toBeNull()
        for (const c of clients.splice(0)) c.destroy()

        const dead = await openStorage()
        const pending = await dead.feeds.pending(10)
        const recorded = fault === 'feed-after-record' ? [['reaction', 0, ['subject:crash', 'user:ben']]] : []
        expect(pending.map((p) => [p.activity.type, p.cursor, p.activity.feeds])).toEqual(recorded)
        expect(await dead.feeds.list('user:ben', { limit: 10, after: null })).toEqual([])
        await dead.close()

        const third = await startChild(env)
        children.push(third)
        const feed = await connectSynced(third.webSocketUrl, 'feed/user:ben', await tokenFor(secret, 'ben'))
        clients.push(feed)
        await waitFor(() => readFeed(feed.doc).length === 1, 'the reaction in ben’s feed after the restart', 30_000)
        expect(readFeed(feed.doc)[0]).toMatchObject({ type: 'reaction', actorIds: ['ana'], count: 1, commentId })
        // Ana comes back: the document loads again; nothing repeats.
        const again = await connectSynced(third.webSocketUrl, 'comments/crash', await tokenFor(secret, 'ana'))
        clients.push(again)
        await waitFor(async () => (await listed(third.httpUrl, 'subject:crash')).length === 2, 'the subject feed holds the thread and the reaction')
        expect(await listed(third.httpUrl, 'user:ben')).toMatchObject([{ type: 'reaction', count: 1, actorIds: ['ana'] }])
        expect(readFeed(feed.doc)).toHaveLength(1)
      },
      90_000,
    )
  })
}
