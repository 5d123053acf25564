import { rmSync } from 'node:fs'
import { HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { afterEach, describe, expect, it } from 'vitest'
import { DocumentSession } from '../../client/session.ts'
import { MemoryStore } from '../../client/stores/memory.ts'
import { createThread, readThreads } from '../../protocol/index.ts'
import { createParleyClient, type ParleyClient } from '../../client/index.ts'
import { FileStore } from '../../client/stores/file.ts'
import { rebuild } from '../helpers/comments.ts'
import { handleJson, openSynced, sdkClient, threadsJson, waitAcknowledged } from '../helpers/sdk.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

describe('offline-first', () => {
  const clients: ParleyClient[] = []
  const servers: TestServer[] = []
  const dirs: string[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close()
    for (const s of servers.splice(0)) await s.dispose()
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('merges concurrent offline work: both replies, both first reactions, delete wins over edit', async () => {
    const s = await startServer()
    servers.push(s)
    const ana = await sdkClient(s, 'ana')
    const ben = await sdkClient(s, 'ben')
    clients.push(ana, ben)
    const a = await openSynced(ana, 'trip')
    const b = await openSynced(ben, 'trip')
    const { threadId, commentId } = a.createThread('Where do we meet?')
    await waitFor(() => b.thread(threadId) !== undefined, 'ben sees the thread')
    const { commentId: anaNote } = a.reply(threadId, 'a note ana will delete')
    await waitAcknowledged(a)
    await waitFor(() => b.thread(threadId)?.comments.some((c) => c.id === anaNote) === true, 'ben sees the note')

    ana.disconnect()
    await waitFor(() => ana.status === 'offline', 'ana offline')
    // Ana, offline: replies, reacts first, deletes her note.
    a.reply(threadId, 'At the station (ana, offline)')
    a.react(threadId, commentId, '👍')
    a.delete(threadId, anaNote)
    // Ben, online: replies and reacts first with the same emoji.
    b.reply(threadId, 'At the café (ben)')
    b.react(threadId, commentId, '👍')
    await waitAcknowledged(b)
    // Meanwhile ana edits the same note from her phone (only its author may edit it).
    const anaPhone = await sdkClient(s, 'ana')
    clients.push(anaPhone)
    const phone = await openSynced(anaPhone, 'trip')
    phone.edit(threadId, anaNote, 'edited on the phone')
    await waitAcknowledged(phone)

    ana.connect()
    await waitFor(() => ana.status === 'connected', 'ana back online')
    await waitAcknowledged(a)
    await waitFor(() => handleJson(a) === handleJson(b) && handleJson(b) === handleJson(phone), 'all three converge')

    const thread = a.thread(threadId)
    const texts = thread?.comments.map((c) => c.text) ?? []
    expect(texts).toContain('At the station (ana, offline)')
    expect(texts).toContain('At the café (ben)')
    expect(thread?.comments.find((c) => c.id === commentId)?.reactions).toEqual([{ emoji: '👍', userIds: expect.arrayContaining(['ana', 'ben']) }])
    expect(thread?.comments.find((c) => c.id === commentId)?.reactions[0]?.userIds).toHaveLength(2)
    const note = thread?.comments.find((c) => c.id === anaNote)
    expect(note?.deletedAt).toBeTypeOf('number')
    expect(note?.text).toBe('')
    const serverDoc = s.server.hocuspocus.documents.get('comments/trip')
    expect(serverDoc && threadsJson(serverDoc)).toBe(handleJson(a))
    expect(threadsJson(rebuild(await s.server.storage.documents.load('comments/trip')))).toBe(handleJson(a))
  })

  it('keeps edits made while the server is down across an app restart, and syncs them when it returns', async () => {
    const first = await startServer()
    const { port } = first.server
    const dataDir = first.dataDir
    const secret = first.secret
    await first.stop()
    const storeDir = tempDir('parley-client-store-')
    dirs.push(storeDir, dataDir)
    const token = await first.token('ana')

    // The app starts with the server down, writes, and is thrown away.
    const offline = await createParleyClient({
      url: `ws://127.0.0.1:${port}`,
      token,
      store: new FileStore(storeDir),
      reconnect: { baseDelayMs: 100, maxDelayMs: 300 },
    })
    const handle = offline.comments('notes')
    const { threadId } = handle.createThread('written offline')
    handle.reply(threadId, 'still offline')
    expect(handle.synced).toBe(false)
    await offline.close()

    // A new app over the same store; then the server comes back on the same port.
    const restarted = await createParleyClient({
      url: `ws://127.0.0.1:${port}`,
      token,
      store: new FileStore(storeDir),
      reconnect: { baseDelayMs: 100, maxDelayMs: 300 },
    })
    clients.push(restarted)
    const again = restarted.comments('notes')
    await waitFor(() => again.thread(threadId) !== undefined, 'the new client reads its offline edits from the store')
    const second = await startServer({ dataDir, secret, port })
    servers.push(second)
    await waitAcknowledged(again, 'offline edits acknowledged by the server')
    const stored = rebuild(await second.server.storage.documents.load('comments/notes'))
    expect(JSON.parse(threadsJson(stored))[0]?.comments.map((c: { text: string }) => c.text)).toEqual(['written offline', 'still offline'])
  })
})

describe('document holder', () => {
  it('swaps in a fresh document from the server under a new client id and purges the local store', async () => {
    const s = await startServer()
    const socket = new HocuspocusProviderWebsocket({ url: s.server.webSocketUrl })
    const store = new MemoryStore()
    const session = new DocumentSession({ documentName: 'comments/reset', socket, token: await s.token('ana'), store })
    try {
      await session.ready
      await waitFor(() => session.synced, 'synced')
      createThread({ doc: session.doc, userId: 'ana' }, 'kept by the server')
      await waitFor(() => session.sending === 0, 'acknowledged')
      // A local-only change the server never saw (as a rejected write would be).
      socket.disconnect()
      await waitFor(() => socket.status === 'disconnected', 'offline')
      createThread({ doc: session.doc, userId: 'ana' }, 'local only')
      expect(readThreads(session.doc)).toHaveLength(2)
      const oldClientId = session.doc.clientID
      const old = await session.reset()
      expect(readThreads(old)).toHaveLength(2)
      expect(await store.load('comments/reset')).toBeNull()
      void socket.connect()
      await waitFor(() => session.synced && readThreads(session.doc).length === 1, 'rebuilt from the server')
      expect(session.doc.clientID).not.toBe(oldClientId)
      expect(readThreads(session.doc)[0]?.comments[0]?.text).toBe('kept by the server')
    } finally {
      session.close()
      socket.destroy()
      await s.dispose()
    }
  })
})
