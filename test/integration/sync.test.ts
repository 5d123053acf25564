import { afterEach, describe, expect, it } from 'vitest'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { addComment, addThread, commentTexts, rebuild } from '../helpers/comments.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

describe('sync', () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })

  async function server(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
    const s = await startServer(options)
    cleanup.push(() => s.dispose())
    return s
  }
  async function client(s: TestServer, name: string, user: string, dataDirServer = s): Promise<TestClient> {
    const c = await connectSynced(dataDirServer.server.webSocketUrl, name, await s.token(user))
    cleanup.push(() => c.destroy())
    return c
  }

  it('two providers on a server at port 0 sync a comments document', async () => {
    const s = await server()
    expect(s.server.port).toBeGreaterThan(0)
    const ana = await client(s, 'comments/post-1', 'ana')
    const ben = await client(s, 'comments/post-1', 'ben')
    addThread(ana.doc, 't1', 'ana')
    addComment(ana.doc, 't1', 'c1', 'ana', 'hello from ana')
    await waitFor(() => commentTexts(ben.doc, 't1').length === 1, 'ben sees ana')
    addComment(ben.doc, 't1', 'c2', 'ben', 'hi ana')
    await waitFor(() => commentTexts(ana.doc, 't1').length === 2, 'ana sees ben')
    expect(commentTexts(ana.doc, 't1')).toEqual(['hello from ana', 'hi ana'])
    expect(commentTexts(ben.doc, 't1')).toEqual(commentTexts(ana.doc, 't1'))
  })

  it('keeps data across a graceful restart', async () => {
    const first = await startServer()
    const ana = await connectSynced(first.server.webSocketUrl, 'comments/restart', await first.token('ana'))
    addThread(ana.doc, 't1', 'ana')
    for (let i = 0; i < 20; i++) addComment(ana.doc, 't1', `c${i}`, 'ana', `comment ${i}`)
    await acknowledged(ana)
    ana.destroy()
    await first.stop()

    const second = await server({ dataDir: first.dataDir, secret: first.secret })
    const stored = await second.server.storage.documents.load('comments/restart')
    expect(commentTexts(rebuild(stored), 't1')).toHaveLength(20)
    const ben = await client(second, 'comments/restart', 'ben')
    expect(commentTexts(ben.doc, 't1')).toEqual(Array.from({ length: 20 }, (_, i) => `comment ${i}`))
  })

  it('compacts a long log when the document is stored, and serves the same state', async () => {
    const s = await server({ compactAfterRows: 10 })
    const ana = await client(s, 'comments/long', 'ana')
    addThread(ana.doc, 't1', 'ana')
    for (let i = 0; i < 30; i++) addComment(ana.doc, 't1', `c${i}`, 'ana', `n${i}`)
    await acknowledged(ana)
    expect((await s.server.storage.documents.load('comments/long')).log.length).toBeGreaterThanOrEqual(11)
    ana.destroy()
    // The last connection leaving stores the document, which compacts it, then unloads it.
    await waitFor(() => s.server.hocuspocus.getDocumentsCount() === 0, 'document unloaded')
    const stored = await s.server.storage.documents.load('comments/long')
    expect(stored.log).toEqual([])
    expect(stored.snapshot).not.toBeNull()
    const ben = await client(s, 'comments/long', 'ben')
    expect(commentTexts(ben.doc, 't1')).toEqual(Array.from({ length: 30 }, (_, i) => `n${i}`))
  })
})
