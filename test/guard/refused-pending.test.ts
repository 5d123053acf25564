/**
 * What a refused client id held pending, over real sockets with SQLite: an honest update of
 * mallory's overtakes the one before it (a forged reaction) and is held pending; the forged one is
 * refused. What was pending under the refused client id is dropped on the server and forgotten by
 * storage (also across a restart); a client that got it in a sync step 2 meanwhile sends it back
 * without being refused and without it being kept or stored again; mallory's rebuilt document
 * and her other device keep writing.
 */
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread, markRead, react, reply } from '../../protocol/index.ts'
import { rebuild } from '../helpers/comments.ts'
import { rawClient, type RawClient } from '../helpers/raw.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const SUBJECT = 'comments/refused-pending'

/** `update` as a Sync Update message for `SUBJECT`, sent on the client's socket (unchecked by its own Y.Doc). */
function sendUpdate(client: RawClient, update: Uint8Array): void {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, SUBJECT)
  encoding.writeVarUint(encoder, 0) // Sync
  encoding.writeVarUint(encoder, 2) // Update
  encoding.writeVarUint8Array(encoder, update)
  client.provider.configuration.websocketProvider.send(encoding.toUint8Array(encoder))
}

const texts = (doc: Y.Doc) => JSON.stringify(doc.getMap('threads').toJSON())

describe('what a refused client id held pending', () => {
  let s: TestServer
  const open: RawClient[] = []
  const connect = async (userId: string, doc?: Y.Doc) => {
    const client = await rawClient(s.server.webSocketUrl, SUBJECT, await s.token(userId), doc)
    open.push(client)
    return client
  }
  const serverDoc = () => s.server.hocuspocus.documents.get(SUBJECT)
  const stored = async () => rebuild(await s.server.storage.documents.load(SUBJECT))

  afterEach(async () => {
    for (const client of open.splice(0)) client.destroy()
    await s.dispose()
  })

  it('is dropped on the server and in storage, stays out when a client sends it back, and locks nobody out', async () => {
    s = await startServer()
    const ana = await connect('ana')
    const ids = ['t1', 'c1']
    createThread({ doc: ana.doc, userId: 'ana', newId: () => ids.shift() ?? 'x' }, 'Ana’s words')
    await waitFor(() => ana.provider.unsyncedChanges === 0, 'ana’s thread stored')

    // Mallory's document: a forged reaction in ana's name, then a reply of her own; the reply goes first.
    const mallory = await connect('mallory')
    const writer = new Y.Doc()
    Y.applyUpdate(writer, Y.encodeStateAsUpdate(mallory.doc))
    const start = Y.encodeStateVector(writer)
    react({ doc: writer, userId: 'ana' }, 't1', 'c1', '👎')
    const forged = Y.encodeStateAsUpdate(writer, start)
    const afterForged = Y.encodeStateVector(writer)
    reply({ doc: writer, userId: 'mallory' }, 't1', 'stranded words')
    sendUpdate(mallory, Y.encodeStateAsUpdate(writer, afterForged))
    await waitFor(() => (serverDoc()?.store.pendingStructs ?? null) !== null, 'the reply is held pending')
    expect((await stored()).store.pendingStructs, 'stored pending, as acknowledged').not.toBeNull()

    // Bob opens the document meanwhile: his sync step 2 from the server carries the pending reply.
    const bob = await connect('bob')
    await waitFor(() => bob.doc.store.pendingStructs !== null, 'bob holds it pending too')

    sendUpdate(mallory, forged)
    await waitFor(() => mallory.errors.length > 0, 'the forged reaction is refused')
    expect(mallory.errors[0]).toMatchObject({ code: 'write_rejected' })
    await waitFor(() => serverDoc()?.store.pendingStructs === null, 'dropped on the server')
    await waitFor(async () => (await stored()).store.pendingStructs === null, 'forgotten by storage')

    // Bob reconnects: his sync step 2 sends it back. Nothing is refused, kept or stored.
    bob.destroy()
    const bobAgain = await connect('bob', bob.doc)
    markRead({ doc: bobAgain.doc, userId: 'bob' }, 't1')
    await waitFor(() => bobAgain.provider.unsyncedChanges === 0, 'bob’s write acknowledged')
    expect(bobAgain.errors).toEqual([])
    expect(serverDoc()?.store.pendingStructs).toBeNull()
    expect((await stored()).store.pendingStructs).toBeNull()

    // Mallory's rebuilt document (a new client id) writes.
    const rebuilt = await connect('mallory')
    reply({ doc: rebuilt.doc, userId: 'mallory' }, 't1', 'from the rebuilt document')
    await waitFor(() => rebuilt.provider.unsyncedChanges === 0, 'mallory’s new write acknowledged')
    expect(rebuilt.errors).toEqual([])

    // After a restart, nothing of it comes back.
    for (const client of open.splice(0)) client.destroy()
    await s.stop()
    s = await startServer({ dataDir: s.dataDir, secret: s.secret })
    const reader = await connect('ana')
    expect(texts(reader.doc)).toContain('from the rebuilt document')
    expect(texts(reader.doc)).not.toContain('stranded words')
    expect(serverDoc()?.store.pendingStructs).toBeNull()
    expect(reader.doc.store.pendingStructs).toBeNull()
  })
})
