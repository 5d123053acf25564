/**
 * Replays cannot grow storage: an update the document already has is acknowledged without a
 * storage write, however often it comes (issue 12: 499 MiB of log for a 0.96 MiB document).
 *
 * In process: `unseenPart` keeps only what a document lacks, structs and deletions alike, and
 * `sharedUnseenPart` computes it once per message payload. Against a real server (SQLite and
 * PostgreSQL): a raw wire client replays the same `Update` frames 100 times and counts the
 * acknowledgements; a real provider replays through its own update handler and ends with no
 * unsynced changes; the stored bytes and log rows stay as they were.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { decodeUpdateOnce, isEmptyUpdate, sharedUnseenPart, unseenPart } from '../../core/documents/updates.ts'
import {
  commentsDocumentName,
  createThread,
  editComment,
  markRead,
  react,
  readThreads,
  reply,
  threadsMap,
  unreact,
  type WriteContext,
} from '../../protocol/index.ts'
import { createTestSchema, type TestSchema } from '../helpers/postgres.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { wireClient, type WireClient } from '../helpers/wire.ts'

/** Times each update is sent again. */
const REPLAYS = 100

/** Writes a user makes: every kind of change, inserts and deletions (overwrites, an edit, an unreaction). */
function writeEverything(doc: Y.Doc, userId: string): Uint8Array[] {
  const updates: Uint8Array[] = []
  const record = (update: Uint8Array) => updates.push(update)
  doc.on('update', record)
  const ctx: WriteContext = { doc, userId }
  const { threadId, commentId } = createThread(ctx, 'first words')
  const second = reply(ctx, threadId, 'a reply').commentId
  markRead(ctx, threadId)
  markRead(ctx, threadId) // overwrites: deletes the first marker
  react(ctx, threadId, commentId, '👍')
  unreact(ctx, threadId, commentId, '👍')
  editComment(ctx, threadId, second, 'an edited reply')
  doc.off('update', record)
  return updates
}

describe('unseenPart (in process)', () => {
  it('is empty for every update the document already has, deletions included', () => {
    const client = new Y.Doc()
    const updates = writeEverything(client, 'ana')
    const server = new Y.Doc()
    for (const update of updates) Y.applyUpdate(server, update)
    expect(updates.some((update) => Y.decodeUpdate(update).ds.clients.size > 0)).toBe(true)
    for (const update of updates) expect(unseenPart(server, update)).toEqual(new Uint8Array([0, 0]))
    expect(isEmptyUpdate(unseenPart(server, Y.encodeStateAsUpdate(client)))).toBe(true)
  })

  it('keeps exactly what is new: the missing structs and the deletions not yet applied', () => {
    const client = new Y.Doc()
    const updates = writeEverything(client, 'ana')
    const server = new Y.Doc()
    const [first, ...rest] = updates
    Y.applyUpdate(server, first!)
    const part = unseenPart(server, Y.encodeStateAsUpdate(client))
    expect(part.byteLength).toBeLessThan(Y.encodeStateAsUpdate(client).byteLength)
    Y.applyUpdate(server, part)
    expect(server.getMap('threads').toJSON()).toEqual(client.getMap('threads').toJSON())
    // A deletion the server has not applied is kept even when the structs it deletes are known.
    const edit = rest.at(-1)!
    const before = new Y.Doc()
    for (const update of rest.slice(0, -1)) Y.applyUpdate(before, update)
    Y.applyUpdate(before, first!)
    expect(Y.decodeUpdate(unseenPart(before, edit)).ds.clients.size).toBe(1)
  })

  it('keeps a deletion of structs the document does not have yet (it stays pending there)', () => {
    const client = new Y.Doc()
    const text = client.getText('t')
    text.insert(0, 'hello')
    const deletion = (() => {
      const before = Y.encodeStateVector(client)
      text.delete(0, 2)
      return Y.encodeStateAsUpdate(client, before)
    })()
    const empty = new Y.Doc()
    const part = unseenPart(empty, deletion)
    expect(Y.decodeUpdate(part).ds.clients.get(client.clientID)).toEqual([expect.objectContaining({ clock: 0, len: 2 })])
  })

  it('is empty for structs and deletions the document already holds pending', () => {
    const client = new Y.Doc()
    const text = client.getText('t')
    text.insert(0, 'abc')
    const gap = Y.encodeStateVector(client)
    text.insert(3, 'def')
    const sv = Y.encodeStateVector(client)
    text.delete(0, 1)
    text.delete(3, 1)
    const waiting = Y.encodeStateAsUpdate(client, gap) // "def" waits for "abc"; the deletion of "a" waits too
    const server = new Y.Doc()
    Y.applyUpdate(server, waiting)
    expect(server.store.pendingStructs).not.toBeNull()
    expect(server.store.pendingDs).not.toBeNull()
    expect(isEmptyUpdate(unseenPart(server, waiting))).toBe(true)
    // Something new among them is kept, with the structs past the state vector.
    text.insert(0, 'new')
    const more = Y.encodeStateAsUpdate(client, sv)
    const part = unseenPart(server, more)
    expect(Y.decodeUpdate(part).structs.length).toBeGreaterThan(0)
    Y.applyUpdate(server, Y.encodeStateAsUpdate(client, Y.encodeStateVector(server)))
    Y.applyUpdate(server, part)
    expect(server.getText('t').toString()).toBe(client.getText('t').toString())
  })

  it('hands back a fresh edit as it came, without diffing it against the state vector', () => {
    const client = new Y.Doc()
    const [first, second] = writeEverything(client, 'ana')
    const server = new Y.Doc()
    Y.applyUpdate(server, first!)
    expect(unseenPart(server, second!)).toBe(second)
    // Decoded once: the guard's index of the same payload reads the structs the unseen part read.
    expect(decodeUpdateOnce(second!)).toBe(decodeUpdateOnce(second!))
    expect(decodeUpdateOnce(second!.slice())).not.toBe(decodeUpdateOnce(second!))
    // The same edit with a struct the server has in front of it is diffed: only the new part stays.
    const both = Y.mergeUpdates([first!, second!])
    const part = unseenPart(server, both)
    expect(part).not.toBe(both)
    expect(part.byteLength).toBeLessThan(both.byteLength)
    Y.applyUpdate(server, part)
    const expected = new Y.Doc()
    Y.applyUpdate(expected, both)
    expect(server.getMap('threads').toJSON()).toEqual(expected.getMap('threads').toJSON())
  })

  it('computes the shared part once per payload and document', () => {
    const client = new Y.Doc()
    const [first, second] = writeEverything(client, 'ana')
    const server = new Y.Doc()
    Y.applyUpdate(server, first!)
    // Half known to the server: the part is a diff of its own, not the payload.
    const payload = Y.mergeUpdates([first!, second!])
    const part = sharedUnseenPart(server, payload)
    expect(part).not.toBe(payload)
    expect(sharedUnseenPart(server, payload)).toBe(part)
    expect(sharedUnseenPart(new Y.Doc(), payload)).not.toBe(part)
    expect(sharedUnseenPart(server, payload.slice())).not.toBe(part)
  })
})

interface Stored {
  bytes: number
  rows: number
}

function replaySuite(backend: 'sqlite' | 'postgres') {
  describe(`replays against a real server (${backend})`, () => {
    let schema: TestSchema | undefined
    let s: TestServer
    const wires: WireClient[] = []
    const providers: TestClient[] = []
    const stored = async (name: string): Promise<Stored> => {
      const loaded = await s.server.storage.documents.load(name)
      return { bytes: await s.server.storage.documents.storedBytes(name), rows: loaded.log.length + (loaded.snapshot ? 1 : 0) }
    }

    beforeAll(async () => {
      if (backend === 'postgres') schema = await createTestSchema()
      // Flow control must not slow the replays down: this measures storage, not rates.
      s = await startServer({ updateRate: { perSecond: 10_000, burst: 10_000 }, ...(schema ? { databaseUrl: schema.url } : {}) })
    })
    afterEach(() => {
      for (const wire of wires.splice(0)) wire.close()
      for (const provider of providers.splice(0)) provider.destroy()
    })
    afterAll(async () => {
      await s.dispose()
      await schema?.drop()
    })

    it(`acknowledges ${REPLAYS} replays of each update without storing anything`, async () => {
      const name = commentsDocumentName(`replay-wire-${backend}`)
      const wire = await wireClient(s.server.webSocketUrl, name, await s.token('ana'))
      wires.push(wire)
      const doc = new Y.Doc()
      const updates = writeEverything(doc, 'ana')
      // And one the server must keep pending: the reply before it is never sent.
      const threadId = [...threadsMap(doc).keys()][0]!
      reply({ doc, userId: 'ana' }, threadId, 'never sent')
      const before = Y.encodeStateVector(doc)
      reply({ doc, userId: 'ana' }, threadId, 'waits for the one before')
      updates.push(Y.encodeStateAsUpdate(doc, before))
      for (const update of updates) wire.sendUpdate(update)
      await waitFor(() => wire.acknowledged === updates.length, 'the original updates are acknowledged')
      const live = s.server.hocuspocus.documents.get(name)!
      expect(live.store.pendingStructs).not.toBeNull()
      const original = await stored(name)
      expect(original.bytes).toBeGreaterThan(0)

      for (let i = 0; i < REPLAYS; i++) for (const update of updates) wire.sendUpdate(update)
      const expected = updates.length * (REPLAYS + 1)
      await waitFor(() => wire.acknowledged === expected, `${expected} acknowledgements`, 30_000)
      expect(wire.refusals).toBe(0)
      expect(await stored(name)).toEqual(original)
      expect(readThreads(live)[0]?.comments.map((c) => c.text)).toEqual(['first words', 'an edited reply'])
    }, 60_000)

    it(`ends a provider's ${REPLAYS} replays with no unsynced changes and nothing stored`, async () => {
      const name = commentsDocumentName(`replay-provider-${backend}`)
      const client = await connectSynced(s.server.webSocketUrl, name, await s.token('ben'))
      providers.push(client)
      const updates = writeEverything(client.doc, 'ben')
      await waitFor(() => !client.provider.hasUnsyncedChanges, 'the original writes are acknowledged')
      const before = await stored(name)
      expect(before.bytes).toBeGreaterThan(0)

      // The provider's own update handler sends and counts each replay like a new local change.
      for (let i = 0; i < REPLAYS; i++) for (const update of updates) client.provider.documentUpdateHandler(update, null)
      expect(client.provider.unsyncedChanges).toBeGreaterThan(0)
      await waitFor(() => client.provider.unsyncedChanges === 0, 'every replay acknowledged', 30_000)
      expect(client.provider.hasUnsyncedChanges).toBe(false)
      expect(await stored(name)).toEqual(before)
    }, 60_000)
  })
}

replaySuite('sqlite')
replaySuite('postgres')
