/**
 * Each refusal code driven against a standard provider (which ignores `parley.error`): it either
 * recovers by itself (the socket is closed, it reconnects, its handshake resends what was not
 * acknowledged) or its reconnects are spaced by the server's growing hold. None is left connected
 * with unacknowledged changes and nothing happening.
 */
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CloseCode, createThread, readThreads, reply } from '../../protocol/index.ts'
import { addComment, rebuild } from '../helpers/comments.ts'
import { createTestSchema, type TestSchema } from '../helpers/postgres.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { watchedProvider, type WatchedProvider } from './watched.ts'

/** How long the reconnect loop of a refused write is watched. */
const LOOP_WATCH_MS = 6_000

describe('refusals against a standard provider', () => {
  let s: TestServer | undefined
  let schema: TestSchema | undefined
  const providers: WatchedProvider[] = []
  afterEach(async () => {
    for (const p of providers.splice(0)) p.destroy()
    await s?.dispose()
    s = undefined
    await schema?.drop()
    schema = undefined
  })

  const watch = async (server: TestServer, name: string, userId: string, claims?: Parameters<TestServer['token']>[1]) => {
    const p = watchedProvider(server.server.webSocketUrl, name, await server.token(userId, claims))
    providers.push(p)
    await waitFor(() => p.provider.isSynced && p.provider.unsyncedChanges === 0, `${userId} synced`)
    return p
  }
  const serverThreads = (server: TestServer, name: string) => {
    const doc = server.server.hocuspocus.documents.get(name)
    return doc ? readThreads(doc) : []
  }

  it('rate_limited (a cut far past the ceiling): the socket is closed, the provider reconnects and everything is acknowledged', async () => {
    // A low frame ceiling, so that one burst of separate updates goes past it.
    s = await startServer({ flow: { ceilingFrames: { perSecond: 20, burst: 100 } } })
    const name = 'comments/refusal-cut'
    const writer = await watch(s, name, 'ana')
    const ctx = { doc: writer.doc, userId: 'ana' }
    const { threadId } = createThread(ctx, 'comment 0')
    for (let i = 1; i < 300; i++) reply(ctx, threadId, `comment ${i}`)
    await waitFor(() => writer.socketCloses.length > 0, 'the socket was cut')
    expect(writer.socketCloses[0]).toMatchObject({ code: CloseCode.RateLimited.code, reason: 'rate_limited' })
    await waitFor(() => writer.provider.isSynced && writer.provider.unsyncedChanges === 0, 'everything acknowledged after the reconnect', 20_000)
    expect(serverThreads(s, name)[0]?.comments).toHaveLength(300)
    expect(readThreads(rebuild(await s.server.storage.documents.load(name)))[0]?.comments).toHaveLength(300)
  })

  it.each([
    ['too_large', CloseCode.TooLarge.code, (doc: Y.Doc, threadId: string) => addComment(doc, threadId, 'c-long', 'mallory', 'x'.repeat(10_001))],
    ['write_rejected', CloseCode.WriteRejected.code, (doc: Y.Doc, threadId: string) => reply({ doc, userId: 'ana' }, threadId, 'in ana’s name')],
  ] as const)(
    '%s: never accepted; the provider’s reconnects are spaced by a growing hold',
    async (code, closeCode, forge) => {
      s = await startServer()
      const name = `comments/refusal-${code}`
      const ana = await watch(s, name, 'ana')
      const { threadId } = createThread({ doc: ana.doc, userId: 'ana' }, 'ana’s thread')
      await waitFor(() => ana.provider.unsyncedChanges === 0, 'ana acknowledged')
      const mallory = await watch(s, name, 'mallory')
      forge(mallory.doc, threadId)
      await waitFor(() => mallory.socketCloses.length > 0, 'the socket closed after the refusal')
      const started = mallory.socketCloses[0]!.at
      expect(mallory.errors[0]).toMatchObject({ code, documentName: name })
      expect(mallory.socketCloses[0]).toMatchObject({ code: closeCode, reason: code })
      await new Promise((resolve) => setTimeout(resolve, LOOP_WATCH_MS))
      // The provider (50 ms after each close) comes back and sends the same thing: each time it is
      // told again, and its socket is closed after 1 s, 2 s, 4 s…: a few closes, not a hundred.
      const closes = mallory.socketCloses.filter((close) => close.at - started <= LOOP_WATCH_MS)
      expect(closes.length).toBeGreaterThanOrEqual(2)
      expect(closes.length).toBeLessThanOrEqual(4)
      // The refused client id stays refused: repeats of a `too_large` are `write_rejected`.
      expect(closes.slice(1).every((close) => close.code === CloseCode.WriteRejected.code)).toBe(true)
      expect(mallory.errors.slice(1).every((error) => error.code === 'write_rejected')).toBe(true)
      const gaps = closes.slice(1).map((close, i) => close.at - closes[i]!.at)
      expect(gaps[0]).toBeGreaterThanOrEqual(900)
      for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeGreaterThan(gaps[i - 1]!)
      expect(mallory.errors.length).toBeGreaterThanOrEqual(closes.length)
      // Never accepted: ana's thread has her one comment, in memory and in storage.
      expect(serverThreads(s, name)[0]?.comments).toHaveLength(1)
      expect(readThreads(rebuild(await s.server.storage.documents.load(name)))[0]?.comments).toHaveLength(1)
      // Ana, on her own socket, was never disturbed.
      expect(ana.socketCloses).toEqual([])
    },
    30_000,
  )

  it('out_of_sync: the socket is closed and the reconnect’s handshake sends the missing part, which is accepted', async () => {
    s = await startServer()
    const name = 'comments/refusal-out-of-sync'
    const writer = await watch(s, name, 'ana')
    // A thread ana wrote with another Y.Doc, which reached her document but never the server.
    const elsewhere = new Y.Doc()
    const { threadId } = createThread({ doc: elsewhere, userId: 'ana' }, 'written elsewhere')
    Y.applyUpdate(writer.doc, Y.encodeStateAsUpdate(elsewhere), writer.provider)
    // A reply into it depends on structs the server lacks, of a client id that is not ana's yet.
    reply({ doc: writer.doc, userId: 'ana' }, threadId, 'a reply')
    await waitFor(() => writer.errors.length > 0, 'told out_of_sync')
    expect(writer.errors[0]).toMatchObject({ code: 'out_of_sync' })
    await waitFor(() => writer.socketCloses.length > 0, 'socket closed')
    expect(writer.socketCloses[0]).toMatchObject({ code: CloseCode.OutOfSync.code, reason: 'out_of_sync' })
    await waitFor(() => writer.provider.isSynced && writer.provider.unsyncedChanges === 0, 'acknowledged after the resync')
    expect(serverThreads(s, name)[0]?.comments.map((c) => c.text)).toEqual(['written elsewhere', 'a reply'])
  })

  it('storage_unavailable: the socket is closed, reconnects are held back while storage is down, and the write lands once it is back', async () => {
    schema = await createTestSchema()
    s = await startServer({ databaseUrl: schema.url })
    const name = 'comments/refusal-storage'
    const writer = await watch(s, name, 'ana')
    const ctx = { doc: writer.doc, userId: 'ana' }
    const { threadId } = createThread(ctx, 'before')
    await waitFor(() => writer.provider.unsyncedChanges === 0, 'stored before the outage')
    const sql = new pg.Client({ connectionString: schema.url })
    await sql.connect()
    try {
      await sql.query('ALTER TABLE document_log RENAME TO document_log_away')
      reply(ctx, threadId, 'during')
      await waitFor(() => writer.socketCloses.length > 0, 'the socket closed')
      expect(writer.errors[0]).toMatchObject({ code: 'storage_unavailable' })
      expect(writer.socketCloses[0]).toMatchObject({ code: CloseCode.StorageUnavailable.code, reason: 'storage_unavailable' })
      const downSince = performance.now()
      await new Promise((resolve) => setTimeout(resolve, 4_000))
      // Storage still down: each reconnect is refused again (the document cannot load, or the
      // append fails) and the socket closed after a growing hold, not every 50 ms.
      const during = writer.socketCloses.filter((close) => close.at >= downSince)
      expect(during.length).toBeLessThanOrEqual(3)
      expect(writer.provider.unsyncedChanges).toBeGreaterThan(0)
      await sql.query('ALTER TABLE document_log_away RENAME TO document_log')
    } finally {
      await sql.end()
    }
    await waitFor(() => writer.provider.isSynced && writer.provider.unsyncedChanges === 0, 'the write is acknowledged once storage is back', 30_000)
    expect(readThreads(rebuild(await s.server.storage.documents.load(name)))[0]?.comments.map((c) => c.text)).toEqual(['before', 'during'])
  }, 60_000)

  it('access_revoked: the provider is told and its document closed; it does not loop, and opening again is refused', async () => {
    s = await startServer({ apiKey: TEST_API_KEY })
    await rest(s, 'PUT', '/api/v1/subjects/revoked/members/ana', { bearer: TEST_API_KEY, json: { role: 'comment' } })
    const name = 'comments/revoked'
    const token = await s.token('ana', { access: {} })
    const ana = watchedProvider(s.server.webSocketUrl, name, token)
    providers.push(ana)
    await waitFor(() => ana.provider.isSynced, 'ana synced')
    expect((await rest(s, 'DELETE', '/api/v1/subjects/revoked/members/ana', { bearer: TEST_API_KEY })).status).toBe(200)
    await waitFor(() => ana.closes.includes('access_revoked'), 'the provider reports the close')
    expect(ana.errors.map((e) => e.code)).toEqual(['access_revoked'])
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    // Nothing to retry: no reconnect loop.
    expect(ana.socketCloses).toEqual([])
    const again = watchedProvider(s.server.webSocketUrl, name, token)
    providers.push(again)
    await waitFor(() => again.authFailures.length > 0, 'opening again is refused')
    expect(again.authFailures[0]).toMatch(/^forbidden: /)
  })
})
