/**
 * Group commit across kill -9 (issue 22): the server kills itself (PARLEY_FAULT=log-before-commit,
 * test-only) inside the transaction of the first group holding appends of several documents, its
 * rows inserted and not committed. Every update acknowledged before is stored; no update of the
 * fatal group was acknowledged, and none of it is stored after the crash; once the writers'
 * documents reconnect to the restarted server, what was never acknowledged arrives, so nothing is
 * lost. A group commit that acknowledged before its commit fails this test.
 */
import { rmSync } from 'node:fs'
import path from 'node:path'
import * as Y from 'yjs'
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteStorage, SQLITE_FILE } from '../../server/storage/sqlite/index.ts'
import { LOG_FAULT_DOCUMENTS } from '../../server/storage/sqlite/faults.ts'
import { addComment, addThread, commentTexts, rebuild } from '../helpers/comments.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { tempDir } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

/** Writers, each on its own socket and document, so a group can hold several documents. */
const WRITERS = ['ana', 'ben', 'cem', 'dia']
/** Updates each writer sends only after its previous one was acknowledged: single-document groups, all committed. */
const ACKNOWLEDGED_EACH = 20
/** Rounds of one update per writer sent at once; the first round whose updates share a group is fatal. */
const MAX_ROUNDS = 200

/** A writer and what the server acknowledged of what it wrote, until its socket closed. */
interface Writer {
  user: string
  name: string
  client: TestClient
  written: string[]
  /** How many of `written` (from the start) an acknowledgement covered while the socket was open. */
  acknowledged: number
  closed: boolean
}

function track(user: string, name: string, client: TestClient): Writer {
  const writer: Writer = { user, name, client, written: [], acknowledged: 0, closed: false }
  // Every message that arrived before the close was handled before the `disconnect` event.
  client.socket.on('disconnect', () => (writer.closed = true))
  client.provider.on('unsyncedChanges', ({ number }: { number: number }) => {
    if (number === 0 && !writer.closed) writer.acknowledged = writer.written.length
  })
  return writer
}

function write(writer: Writer, text: string): void {
  writer.written.push(text)
  addComment(writer.client.doc, 't1', `c${writer.written.length}`, writer.user, text)
}

describe('group commit across kill -9', () => {
  const children: ChildServer[] = []
  const clients: TestClient[] = []
  const dirs: string[] = []
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy()
    for (const child of children.splice(0)) child.process.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('acknowledges no update of a group that did not commit, keeps every acknowledged one, and loses none after reconnecting', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const secret = newSecret()
    const env = { PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret }
    const first = await startChild({ ...env, PARLEY_FAULT: 'log-before-commit' })
    children.push(first)
    const dead = () => first.process.exitCode !== null || first.process.signalCode !== null

    const writers: Writer[] = []
    for (const user of WRITERS) {
      const name = `comments/group-${user}`
      const client = await connectSynced(first.webSocketUrl, name, await tokenFor(secret, user))
      clients.push(client)
      const writer = track(user, name, client)
      writers.push(writer)
      addThread(client.doc, 't1', user)
      await acknowledged(client)
    }
    // One update at a time, across all writers: each group holds one document and commits.
    for (let i = 0; i < ACKNOWLEDGED_EACH; i++) {
      for (const writer of writers) {
        write(writer, `${writer.user} acknowledged ${i}`)
        await acknowledged(writer.client)
      }
    }
    expect(dead()).toBe(false)
    for (const writer of writers) expect(writer.acknowledged).toBe(ACKNOWLEDGED_EACH)

    // Then every writer at once, until a group holds several documents and the process dies in its transaction.
    let rounds = 0
    while (!dead()) {
      expect(rounds, 'no group held appends of several documents').toBeLessThan(MAX_ROUNDS)
      rounds++
      for (const writer of writers) write(writer, `${writer.user} round ${rounds}`)
      await waitFor(() => dead() || writers.every((w) => w.client.provider.unsyncedChanges === 0), `round ${rounds} acknowledged or the server dead`)
    }
    expect(await first.exited).toBeNull()
    expect(first.process.signalCode).toBe('SIGKILL')
    await waitFor(() => writers.every((w) => w.closed), 'every writer saw its socket close')

    // The fatal group's updates were never acknowledged: the last round's, of at least the group's documents.
    for (const writer of writers) expect(writer.acknowledged).toBeGreaterThanOrEqual(writer.written.length - 1)
    const unacknowledged = writers.filter((w) => w.acknowledged < w.written.length)
    expect(unacknowledged.length).toBeGreaterThanOrEqual(LOG_FAULT_DOCUMENTS)

    // Storage after the crash: everything acknowledged, nothing of the group that did not commit.
    // Exactly the acknowledged prefix: a group's acknowledgements leave in the turn it commits, before the next group.
    const storage = new SqliteStorage(path.join(dataDir, SQLITE_FILE))
    try {
      for (const writer of writers) {
        const stored = commentTexts(rebuild(await storage.documents.load(writer.name)), 't1')
        expect(stored).toEqual(writer.written.slice(0, writer.acknowledged))
      }
    } finally {
      await storage.close()
    }

    // The same documents reconnect to the restarted server and send what was not acknowledged.
    const second = await startChild(env)
    children.push(second)
    for (const writer of writers) {
      writer.client.destroy()
      const again = await connectSynced(second.webSocketUrl, writer.name, await tokenFor(secret, writer.user), writer.client.doc)
      clients.push(again)
      await acknowledged(again)
    }
    for (const writer of writers) {
      const reader = await connectSynced(second.webSocketUrl, writer.name, await tokenFor(secret, 'eve'), new Y.Doc())
      clients.push(reader)
      await waitFor(() => commentTexts(reader.doc, 't1').length === writer.written.length, `${writer.name} complete after the restart`)
      expect(commentTexts(reader.doc, 't1')).toEqual(writer.written)
    }
  }, 60_000)
})
