import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { addComment, addThread, commentTexts, rebuild } from '../helpers/comments.ts'
import { createTestSchema } from '../helpers/postgres.ts'
import { rawClient } from '../helpers/raw.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { REDIS_URL, closedPort } from '../helpers/services.ts'
import { newSecret } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

describe('several instances with REDIS_URL', () => {
  const servers: TestServer[] = []
  const clients: TestClient[] = []
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    for (const s of servers.splice(0)) await s.dispose()
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  it('clients on two instances sharing PostgreSQL see each other’s comments', async () => {
    const schema = await createTestSchema()
    cleanups.push(() => schema.drop())
    const secret = newSecret()
    const one = await startServer({ redisUrl: REDIS_URL, databaseUrl: schema.url, secret })
    const two = await startServer({ redisUrl: REDIS_URL, databaseUrl: schema.url, secret })
    servers.push(one, two)
    const name = `comments/redis-${randomUUID()}`
    const ana = await connectSynced(one.server.webSocketUrl, name, await one.token('ana'))
    const ben = await connectSynced(two.server.webSocketUrl, name, await two.token('ben'))
    clients.push(ana, ben)
    addThread(ana.doc, 't1', 'ana')
    addComment(ana.doc, 't1', 'c1', 'ana', 'from instance one')
    await waitFor(() => commentTexts(ben.doc, 't1').length === 1, 'ben (instance two) sees ana')
    addComment(ben.doc, 't1', 'c2', 'ben', 'from instance two')
    await waitFor(() => commentTexts(ana.doc, 't1').length === 2, 'ana (instance one) sees ben')
    expect(commentTexts(ana.doc, 't1')).toEqual(['from instance one', 'from instance two'])
    await waitFor(() => ana.provider.unsyncedChanges === 0 && ben.provider.unsyncedChanges === 0, 'both acknowledged')
    // Each instance stored what its own client wrote, in the one shared database.
    expect(commentTexts(rebuild(await one.server.storage.documents.load(name)), 't1')).toEqual(['from instance one', 'from instance two'])
    const ready = await fetch(`${one.server.httpUrl}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ checks: { storage: { ok: true }, redis: { ok: true } } })
  })

  it('checks updates where they enter: a forged one on instance one never reaches instance two', async () => {
    const schema = await createTestSchema()
    cleanups.push(() => schema.drop())
    const secret = newSecret()
    const one = await startServer({ redisUrl: REDIS_URL, databaseUrl: schema.url, secret })
    const two = await startServer({ redisUrl: REDIS_URL, databaseUrl: schema.url, secret })
    servers.push(one, two)
    const name = `comments/redis-guard-${randomUUID()}`
    const ana = await connectSynced(one.server.webSocketUrl, name, await one.token('ana'))
    const ben = await connectSynced(two.server.webSocketUrl, name, await two.token('ben'))
    clients.push(ana, ben)
    addThread(ana.doc, 't1', 'ana')
    await waitFor(() => commentTexts(ben.doc, 't1').length === 0 && ben.doc.getMap('threads').has('t1'), 'ben sees ana’s thread')
    const mallory = await rawClient(one.server.webSocketUrl, name, await one.token('mallory'))
    try {
      addComment(mallory.doc, 't1', 'forged', 'ana', 'written as ana by mallory')
      await waitFor(() => mallory.errors.length > 0, 'mallory is refused on instance one')
      expect(mallory.errors[0]?.code).toBe('write_rejected')
    } finally {
      mallory.destroy()
    }
    // An honest write after it reaches instance two; the forged one never does.
    addComment(ana.doc, 't1', 'c1', 'ana', 'honest')
    await waitFor(() => commentTexts(ben.doc, 't1').length === 1, 'ben (instance two) sees the honest comment')
    expect(commentTexts(ben.doc, 't1')).toEqual(['honest'])
  })

  it('/ready reports Redis when it does not answer', async () => {
    const s = await startServer({ redisUrl: `redis://127.0.0.1:${await closedPort()}` })
    servers.push(s)
    const res = await fetch(`${s.server.httpUrl}/ready`)
    expect(res.status).toBe(503)
    const body = (await res.json()) as { checks: { redis: { ok: boolean } }; error: { message: string } }
    expect(body.checks.redis.ok).toBe(false)
    expect(body.error.message).toContain('redis')
  })
})
