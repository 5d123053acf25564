/**
 * Hide and unhide with two instances (PostgreSQL + Redis): a hide on one instance reaches a client
 * of the other at once, and the other instance's unhide finds the words the first one kept.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { readThreads } from '../../protocol/index.ts'
import { createTestSchema } from '../helpers/postgres.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { REDIS_URL } from '../helpers/services.ts'
import { newSecret } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject } from '../notifications/setup.ts'

describe('hide and unhide across instances', () => {
  const servers: TestServer[] = []
  const clients: TestClient[] = []
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    for (const s of servers.splice(0)) await s.dispose()
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  it('hides on one instance and unhides on the other, every client seeing both', async () => {
    const schema = await createTestSchema()
    cleanups.push(() => schema.drop())
    const options = { redisUrl: REDIS_URL, databaseUrl: schema.url, secret: newSecret(), apiKey: TEST_API_KEY }
    const one = await startServer(options)
    const two = await startServer(options)
    servers.push(one, two)
    await registerSubject(one, 'wide', ['zoe'])
    const as = async (s: TestServer, userId: string) => ({ bearer: await s.token(userId, { access: {} }) })
    const created = await rest<{ threadId: string; commentId: string }>(one, 'POST', '/api/v1/subjects/wide/threads', {
      ...(await as(one, 'ana')),
      json: { body: 'across' },
    })
    const { threadId, commentId } = created.body
    const watcher = await connectSynced(two.server.webSocketUrl, 'comments/wide', (await as(two, 'ben')).bearer)
    clients.push(watcher)
    const comment = () => readThreads(watcher.doc).find((t) => t.id === threadId)?.comments[0]
    await waitFor(() => comment()?.text === 'across', 'ben (instance two) sees the comment')

    const path = `/api/v1/subjects/wide/threads/${threadId}/comments/${commentId}`
    expect((await rest(one, 'POST', `${path}/hide`, { ...(await as(one, 'zoe')), json: { reason: 'off topic' } })).status).toBe(200)
    await waitFor(() => comment()?.moderation?.reason === 'off topic' && comment()?.text === '', 'ben sees the hide from instance one')
    expect((await rest(two, 'POST', `${path}/unhide`, await as(two, 'zoe'))).status).toBe(200)
    await waitFor(() => comment()?.moderation === null && comment()?.text === 'across', 'ben sees the words back from instance two')
    expect(await one.server.storage.moderation.hidden('wide', commentId)).toBeNull()
  })
})
