/**
 * Opening a document writes nothing to storage until it is written: 200 never-written documents
 * opened and closed with a raw provider add no row to any SQLite table. A written document gets
 * its detection mark when it unloads; one that predates notifications (mark -1, set by a
 * migration) has its mentions recorded as seen, not notified, and is marked at its head.
 */
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread, editComment } from '../../protocol/index.ts'
import { MARK_PREDATES_NOTIFICATIONS } from '../../core/storage/notification-types.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { rawClient } from '../helpers/raw.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

/** Never-written documents opened. */
const DOCUMENTS = 200
/** Opened at once (one socket each). */
const BATCH = 20

/** Rows of every table of the SQLite database, read through a connection of its own. */
function rowCounts(dataDir: string): Record<string, number> {
  const db = new Database(path.join(dataDir, 'parley.db'), { readonly: true })
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()
    return Object.fromEntries(tables.map(({ name }) => [name, db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM "${name}"`).get()?.n ?? -1]))
  } finally {
    db.close()
  }
}

describe('detection marks', () => {
  const servers: TestServer[] = []
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.dispose()
  })

  it('opening 200 never-written documents adds no row to any table', async () => {
    // The projector keeps an inbox it synced open while idle: a short idle time lets it unload.
    const s = await startServer({ apiKey: TEST_API_KEY, inbox: { idleMs: 100 } })
    servers.push(s)
    const token = await s.token('reader')
    // The token is remembered once (a users row); from then on the same token writes nothing.
    expect((await rest(s, 'GET', '/api/v1/notifications/unread-count', { bearer: token })).status).toBe(200)
    const before = rowCounts(s.dataDir)
    expect(before.users).toBe(1)
    expect(Object.keys(before)).toEqual(expect.arrayContaining(['notification_marks', 'document_log', 'document_snapshots', 'client_owners', 'users']))
    const names = [...Array.from({ length: DOCUMENTS - 2 }, (_, i) => `comments/never-${i}`), 'inbox/reader', 'feed/user:reader']
    for (let i = 0; i < names.length; i += BATCH) {
      const clients = await Promise.all(names.slice(i, i + BATCH).map((name) => rawClient(s.server.webSocketUrl, name, token)))
      for (const client of clients) client.destroy()
    }
    await waitFor(() => s.server.hocuspocus.getDocumentsCount() === 0, 'every document unloaded', 20_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; still loaded: ${[...s.server.hocuspocus.documents.keys()].join(', ')}`)
    })
    expect(rowCounts(s.dataDir)).toEqual(before)
  }, 60_000)

  it('marks a written document at its head when it unloads, and lists it for a rescan until then', async () => {
    const s = await startServer({ apiKey: TEST_API_KEY })
    servers.push(s)
    const { storage } = s.server
    const ana = await rawClient(s.server.webSocketUrl, 'comments/written', await s.token('ana'))
    createThread({ doc: ana.doc, userId: 'ana' }, 'hello')
    await waitFor(() => ana.provider.unsyncedChanges === 0, 'acknowledged')
    // Written, not yet unloaded: no mark, and a crash now would have the startup sweep rescan it.
    expect(await storage.notifications.detectionMark('comments/written')).toBeNull()
    expect(await storage.notifications.documentsToReconcile()).toEqual(['comments/written'])
    ana.destroy()
    await waitFor(() => s.server.hocuspocus.getDocumentsCount() === 0, 'the document unloaded')
    const head = await storage.notifications.documentHead('comments/written')
    expect(head).toBeGreaterThan(0)
    expect(await storage.notifications.detectionMark('comments/written')).toBe(head)
    expect(await storage.notifications.documentsToReconcile()).toEqual([])
  })

  it('records the mentions of a document that predates notifications as seen, then notifies new ones', async () => {
    const dataDir = tempDir()
    // A document written before notifications existed, as migration 6 leaves it: mark -1.
    const old = SqliteStorage.inDataDir(dataDir)
    const doc = new Y.Doc()
    doc.on('update', (update: Uint8Array) => void old.documents.append('comments/old', update))
    createThread({ doc, userId: 'ana' }, [{ text: 'long ago, ' }, { text: '@Ben', mention: 'ben' }])
    await old.subjects.put('old', 'comment')
    await old.notifications.setDetectionMark('comments/old', MARK_PREDATES_NOTIFICATIONS)
    expect(await old.notifications.documentsToReconcile()).toEqual([])
    await old.close()

    const s = await startServer({ apiKey: TEST_API_KEY, dataDir })
    servers.push(s)
    const { storage } = s.server
    const ana = await rawClient(s.server.webSocketUrl, 'comments/old', await s.token('ana'))
    await waitFor(async () => (await storage.notifications.detectionMark('comments/old')) !== MARK_PREDATES_NOTIFICATIONS, 'the baseline recorded')
    expect(await storage.notifications.detectionMark('comments/old')).toBe(await storage.notifications.documentHead('comments/old'))
    const handled = await storage.notifications.handled('old')
    expect([...handled.mentions.values()].map((users) => [...users])).toEqual([['ben']])
    expect(await storage.notifications.list('ben', { unreadOnly: false, limit: 10, after: null })).toEqual([])
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text: 'now, ' }, { text: '@Ben', mention: 'ben' }])
    await waitFor(() => ana.provider.unsyncedChanges === 0, 'acknowledged')
    await waitFor(async () => (await storage.notifications.list('ben', { unreadOnly: false, limit: 10, after: null })).length === 1, 'the new mention notified')
    ana.destroy()
  })

  it('does not read every comment again when a document detected up to its head loads, and still notifies only new mentions', async () => {
    const s = await startServer({ apiKey: TEST_API_KEY })
    servers.push(s)
    const { storage } = s.server
    const recorded = async () => {
      const text = await s.server.metrics.registry.getSingleMetricAsString('parley_mention_detection_seconds')
      return Number(/^parley_mention_detection_seconds_count\{phase="record"\} (\d+)$/m.exec(text)?.[1] ?? 0)
    }
    await storage.subjects.put('reloaded', 'comment')
    const ana = await rawClient(s.server.webSocketUrl, 'comments/reloaded', await s.token('ana'))
    const { threadId, commentId } = createThread({ doc: ana.doc, userId: 'ana' }, [{ text: 'hi ' }, { text: '@Ben', mention: 'ben' }])
    await waitFor(async () => (await storage.notifications.list('ben', { unreadOnly: false, limit: 10, after: null })).length === 1, 'ben notified')
    ana.destroy()
    await waitFor(() => !s.server.hocuspocus.documents.has('comments/reloaded'), 'the document unloaded')
    expect(await storage.notifications.detectionMark('comments/reloaded')).toBe(await storage.notifications.documentHead('comments/reloaded'))

    const before = await recorded()
    const again = await rawClient(s.server.webSocketUrl, 'comments/reloaded', await s.token('ana'))
    await waitFor(() => again.provider.isSynced, 'loaded again')
    // The handled mentions were read all the same: an edit adding Cy notifies Cy, not Ben again.
    editComment({ doc: again.doc, userId: 'ana' }, threadId, commentId, [
      { text: 'hi ' },
      { text: '@Ben', mention: 'ben' },
      { text: ' ' },
      { text: '@Cy', mention: 'cy' },
    ])
    await waitFor(async () => (await storage.notifications.list('cy', { unreadOnly: false, limit: 10, after: null })).length === 1, 'cy notified')
    expect(await storage.notifications.list('ben', { unreadOnly: false, limit: 10, after: null })).toHaveLength(1)
    // Detection ran once, for the edit: the load queued no rescan before it.
    expect(await recorded()).toBe(before + 1)
    again.destroy()
  })
})
