/**
 * The inbox document stays bounded: once its stored size passes the reset threshold, the next load
 * rebuilds it from notification storage (same ids and values, no tombstones), and a client that
 * still holds the old state cannot merge it back (the write guard refuses it).
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread, ErrorCode, INBOX_NOTIFICATIONS, readInbox } from '../../protocol/index.ts'
import { rawClient, type RawClient } from '../helpers/raw.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, waitForNotifications, type World } from './setup.ts'

/** Notifications the inbox document holds in this test. */
const LIMIT = 5
/** A small reset threshold (server option `inbox.resetBytes`), so that a few dozen mentions pass it. */
const RESET_BYTES = 4 * 1024
/** Mentions of ben: enough trimmed entries to pass {@link RESET_BYTES}. */
const MENTIONS = 40
/** Idle time after which the projector lets the inbox unload. */
const IDLE_MS = 100
const INBOX = 'inbox/ben'

function clientsOf(doc: Y.Doc): Set<number> {
  return new Set(Y.decodeStateVector(Y.encodeStateVector(doc)).keys())
}

function docOf(state: Uint8Array | null, log: Array<{ data: Uint8Array }>): Y.Doc {
  const doc = new Y.Doc()
  if (state) Y.applyUpdate(doc, state)
  for (const row of log) Y.applyUpdate(doc, row.data)
  return doc
}

describe('inbox bound', () => {
  let world: World
  const raws: RawClient[] = []
  afterEach(async () => {
    for (const raw of raws.splice(0)) raw.destroy()
    await world.dispose()
  })

  it('rebuilds an oversized inbox on load with the latest notifications; old state never merges back', async () => {
    world = await startWorld({ inbox: { limit: LIMIT, idleMs: IDLE_MS, resetBytes: RESET_BYTES } })
    const { server } = world.s
    await registerSubject(world.s, 'post-1')
    const token = await world.s.token('ben')

    // ben's device follows the inbox while the mentions arrive: it ends up holding the old state.
    const old = await rawClient(server.webSocketUrl, INBOX, token)
    raws.push(old)
    const ana = await world.open('post-1', 'ana')
    for (let i = 0; i < MENTIONS; i++) createThread({ doc: ana.doc, userId: 'ana' }, `@ben number ${i}`)
    const stored = await waitForNotifications(world, 'ben', MENTIONS)
    const latest = stored.slice(0, LIMIT).map((n) => n.id)
    await waitFor(() => JSON.stringify(readInbox(old.doc).map((n) => n.id)) === JSON.stringify(latest), 'the latest notifications in the old document')
    const before = readInbox(old.doc)
    const oldState = Y.encodeStateAsUpdate(old.doc)
    const oldClients = clientsOf(old.doc)
    old.destroy()

    await waitFor(() => !server.hocuspocus.documents.has(INBOX), 'the inbox unloads', 15_000)
    expect(await server.storage.documents.storedBytes(INBOX)).toBeGreaterThan(RESET_BYTES)

    // A fresh device: the rebuilt document, same entries, none of the old structs.
    const fresh = await rawClient(server.webSocketUrl, INBOX, token)
    raws.push(fresh)
    expect(readInbox(fresh.doc)).toEqual(before)
    expect(fresh.doc.getMap(INBOX_NOTIFICATIONS).size).toBe(LIMIT)
    expect([...clientsOf(fresh.doc)].filter((c) => oldClients.has(c))).toEqual([])
    const reset = await server.storage.documents.storedBytes(INBOX)
    expect(reset).toBeLessThanOrEqual(RESET_BYTES)

    // The old device comes back with its old state: refused, nothing of it reaches the server.
    const staleDoc = new Y.Doc()
    Y.applyUpdate(staleDoc, oldState)
    const stale = await rawClient(server.webSocketUrl, INBOX, token, staleDoc)
    raws.push(stale)
    const refusals: string[] = [ErrorCode.WriteRejected, ErrorCode.OutOfSync]
    await waitFor(() => stale.errors.some((e) => refusals.includes(e.code)), 'the old state is refused')

    const live = server.hocuspocus.documents.get(INBOX)
    expect(live).toBeDefined()
    expect(readInbox(live!)).toEqual(before)
    expect([...clientsOf(live!)].filter((c) => oldClients.has(c))).toEqual([])
    expect(readInbox(fresh.doc)).toEqual(before)
    const afterStale = await server.storage.documents.load(INBOX)
    const storedDoc = docOf(afterStale.snapshot, afterStale.log)
    expect(readInbox(storedDoc)).toEqual(before)
    expect([...clientsOf(storedDoc)].filter((c) => oldClients.has(c))).toEqual([])
    expect(await server.storage.documents.storedBytes(INBOX)).toBe(reset)
  })
})
