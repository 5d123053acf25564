/**
 * The `sending` count across an app restart: stored updates the server has not acknowledged
 * count as sending on the next start, until the server acknowledges them.
 */
import { rmSync } from 'node:fs'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, describe, expect, it } from 'vitest'
import type { ParleyClient } from '../../client/index.ts'
import { FileStore } from '../../client/stores/file.ts'
import { IndexedDbStore } from '../../client/stores/indexeddb.ts'
import { MemoryStore } from '../../client/stores/memory.ts'
import type { LocalStore } from '../../client/stores/types.ts'
import { readThreads } from '../../protocol/index.ts'
import { rebuild } from '../helpers/comments.ts'
import { openSynced, sdkClient, waitAcknowledged } from '../helpers/sdk.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const DOCUMENT = 'comments/pending'

const stores: Record<string, () => () => LocalStore> = {
  file: () => {
    const dir = tempDir('parley-pending-')
    dirs.push(dir)
    return () => new FileStore(dir)
  },
  indexeddb: () => {
    const factory = new IDBFactory()
    return () => new IndexedDbStore('parley-pending', factory)
  },
}

const clients: ParleyClient[] = []
const servers: TestServer[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close()
  for (const s of servers.splice(0)) await s.dispose()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** Asks a store opened anew (only once the client using the data is closed). */
async function unacknowledgedIn(openStore: () => LocalStore): Promise<number> {
  const store = openStore()
  try {
    return (await store.unacknowledged?.(DOCUMENT)) ?? -1
  } finally {
    await store.close()
  }
}

for (const [kind, makeStore] of Object.entries(stores)) {
  describe(`sending across a restart (${kind} store)`, () => {
    it('counts offline comments stored before the restart until the server acknowledges them', async () => {
      const s = await startServer()
      servers.push(s)
      const openStore = makeStore()
      const anaStore = openStore()
      const ana = await sdkClient(s, 'ana', { store: anaStore })
      const ben = await sdkClient(s, 'ben')
      clients.push(ben)
      const a = await openSynced(ana, 'pending')
      const b = await openSynced(ben, 'pending')
      const { threadId } = a.createThread('online first')
      await waitAcknowledged(a)
      // Ana's acknowledgement and ben's copy travel on different sockets: wait for ben's.
      await waitFor(() => b.thread(threadId) !== undefined, 'ben has the thread')
      // A change from someone else, received while nothing of ana's is pending: not ana's to send.
      b.reply(threadId, 'from ben')
      await waitFor(() => a.thread(threadId)?.comments.length === 2, 'ana receives ben’s reply')
      // Asked of ana's own store: its calls run in order, after the append of ben's reply.
      await waitFor(async () => (await anaStore.unacknowledged?.(DOCUMENT)) === 0, 'the store holds nothing unacknowledged')

      ana.disconnect()
      await waitFor(() => ana.status === 'offline', 'ana offline')
      a.reply(threadId, 'offline 1')
      a.reply(threadId, 'offline 2')
      a.reply(threadId, 'offline 3')
      expect(ana.sending).toBe(3)
      await ana.close()
      expect(await unacknowledgedIn(openStore)).toBe(3)

      // The app restarts over the same store, still offline.
      const restarted = await sdkClient(s, 'ana', { store: openStore() })
      clients.push(restarted)
      restarted.disconnect()
      const seen: number[] = []
      restarted.on('sending', (count) => seen.push(count))
      const again = restarted.comments('pending')
      await waitFor(() => again.thread(threadId)?.comments.length === 5, 'the offline replies read back from the store')
      await waitFor(() => restarted.sending === 3, 'the stored offline replies count as sending')
      expect(again.sending).toBe(3)
      expect(seen).toContain(3)
      expect(again.synced).toBe(false)
      expect(restarted.status).toBe('offline')
      expect(b.thread(threadId)?.comments).toHaveLength(2)

      restarted.connect()
      await waitFor(() => again.synced && restarted.sending === 0, 'acknowledged after connecting')
      expect(seen.at(-1)).toBe(0)
      await waitFor(() => b.thread(threadId)?.comments.length === 5, 'ben receives the offline replies')
      const stored = readThreads(rebuild(await s.server.storage.documents.load(DOCUMENT)))
      expect(stored[0]?.comments.map((c) => c.text)).toEqual(['online first', 'from ben', 'offline 1', 'offline 2', 'offline 3'])
      await restarted.close()
      clients.splice(clients.indexOf(restarted), 1)
      expect(await unacknowledgedIn(openStore)).toBe(0)
    })
  })
}

describe('a store without acknowledge/unacknowledged', () => {
  it('still syncs offline work after a restart; nothing counts as sending before the provider sends it', async () => {
    const s = await startServer()
    servers.push(s)
    const inner = new MemoryStore()
    // Only the four required methods, as a store written before the optional ones existed.
    const plain: LocalStore = {
      load: (name) => inner.load(name),
      append: (name, update) => inner.append(name, update),
      clear: (name) => inner.clear(name),
      close: async () => undefined,
    }
    const ana = await sdkClient(s, 'ana', { store: plain })
    const a = await openSynced(ana, 'plain')
    ana.disconnect()
    await waitFor(() => ana.status === 'offline', 'ana offline')
    const { threadId } = a.createThread('offline')
    await ana.close()

    const restarted = await sdkClient(s, 'ana', { store: plain })
    clients.push(restarted)
    restarted.disconnect()
    const again = restarted.comments('plain')
    await waitFor(() => again.thread(threadId) !== undefined, 'read back from the store')
    expect(restarted.sending).toBe(0)
    restarted.connect()
    await waitAcknowledged(again)
    const stored = readThreads(rebuild(await s.server.storage.documents.load('comments/plain')))
    expect(stored.map((t) => t.id)).toEqual([threadId])
  })
})
