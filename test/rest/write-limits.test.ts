/**
 * REST writes under the same limits as socket writes (issue 12): the document size cap, a per-user
 * write admission (429 `rate_limited` with `Retry-After`), and no copy of the whole document per
 * request (one scratch copy per loaded document, kept in step with it).
 */
import { Hocuspocus } from '@hocuspocus/server'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { commentsDocumentName, createThread, readThreads, reply, threadsMap } from '../../protocol/index.ts'
import type { ParleyUser } from '../../core/auth/claims.ts'
import { allowEveryUpdate, createServerWriter, type AdmitWrite } from '../../server/documents/write.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { codeOf, rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { err, OK } from '../../protocol/result.ts'

/** A small document cap, so that a few REST writes reach it. */
const CAP_BYTES = 24_000
/** A comment body of this many characters: a few of them fill {@link CAP_BYTES}. */
const BIG_BODY = 'x'.repeat(5_000)

describe('REST writes and the document cap', () => {
  let s: TestServer
  const sockets: TestClient[] = []
  beforeAll(async () => {
    s = await startServer({ apiKey: TEST_API_KEY, guard: { maxDocumentBytes: CAP_BYTES } })
  })
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy()
  })
  afterAll(async () => {
    await s.dispose()
  })

  it('refuses a REST write that would pass the cap (413 too_large), storing and applying nothing of it', async () => {
    const subject = 'capped'
    const name = commentsDocumentName(subject)
    await rest(s, 'PUT', `/api/v1/subjects/${subject}`, { bearer: TEST_API_KEY, json: { defaultRole: null } })
    // A socket client holds the document, as the finding's users did.
    const watcher = await connectSynced(s.server.webSocketUrl, name, await s.token('watcher'))
    sockets.push(watcher)
    const ana = await s.token('ana')
    const statuses: number[] = []
    let refused
    for (let i = 0; i < 20 && refused === undefined; i++) {
      const answer = await rest(s, 'POST', `/api/v1/subjects/${subject}/threads`, { bearer: ana, json: { body: BIG_BODY } })
      statuses.push(answer.status)
      if (answer.status !== 201) refused = answer
    }
    expect(statuses.filter((status) => status === 201).length).toBeGreaterThanOrEqual(2)
    expect(refused?.status).toBe(413)
    expect(codeOf(refused!)).toBe('too_large')

    const accepted = statuses.length - 1
    const live = s.server.hocuspocus.documents.get(name)!
    expect(threadsMap(live).size).toBe(accepted)
    await waitFor(() => threadsMap(watcher.doc).size === accepted, 'the watcher has every accepted thread')
    const stored = await s.server.storage.documents.storedBytes(name)
    expect(stored).toBeLessThanOrEqual(CAP_BYTES)
    expect(Y.encodeStateAsUpdate(live).byteLength).toBeLessThanOrEqual(CAP_BYTES)

    // The subject is not bricked: a small socket write still fits under the cap and is acknowledged.
    const threadId = [...threadsMap(watcher.doc).keys()][0]!
    reply({ doc: watcher.doc, userId: 'watcher' }, threadId, 'still writable')
    await waitFor(() => !watcher.provider.hasUnsyncedChanges, 'the socket write is acknowledged')
    expect(
      readThreads(live)
        .find((t) => t.id === threadId)
        ?.comments.map((c) => c.text),
    ).toContain('still writable')
  })
})

describe('REST writes and the per-user write admission', () => {
  let s: TestServer
  const asked: Array<{ userId: string; bytes: number }> = []
  /** Admits `budget` writes per user, then refuses with {@link RETRY_AFTER_MS}. */
  let budget = 0
  const RETRY_AFTER_MS = 1_200
  const admitWrite: AdmitWrite = (userId, bytes) => {
    asked.push({ userId, bytes })
    if (budget > 0) {
      budget--
      return OK
    }
    return err({ retryAfterMs: RETRY_AFTER_MS })
  }
  beforeAll(async () => {
    s = await startServer({ apiKey: TEST_API_KEY, admitWrite })
  })
  beforeEach(() => {
    asked.length = 0
  })
  afterAll(async () => {
    await s.dispose()
  })

  it('answers 429 rate_limited with Retry-After (whole seconds, rounded up) and writes nothing', async () => {
    const subject = 'throttled'
    const name = commentsDocumentName(subject)
    await rest(s, 'PUT', `/api/v1/subjects/${subject}`, { bearer: TEST_API_KEY, json: { defaultRole: null } })
    const ana = await s.token('ana')
    budget = 1
    const first = await rest<{ threadId: string }>(s, 'POST', `/api/v1/subjects/${subject}/threads`, { bearer: ana, json: { body: 'one' } })
    expect(first.status).toBe(201)

    const body = { body: 'two, refused' }
    const response = await fetch(`${s.server.httpUrl}/api/v1/subjects/${subject}/threads/${first.body.threadId}/comments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ana}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(response.status).toBe(429)
    expect(response.headers.get('retry-after')).toBe('2')
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('rate_limited')
    expect(asked).toEqual([
      { userId: 'ana', bytes: Buffer.byteLength(JSON.stringify({ body: 'one' })) },
      { userId: 'ana', bytes: Buffer.byteLength(JSON.stringify(body)) },
    ])
    const stored = readThreads(await loadDoc(s, name))
    expect(stored.map((t) => t.comments.map((c) => c.text))).toEqual([['one']])
  })

  it('asks before loading the document: a refused write to an unloaded document does not load it', async () => {
    const subject = 'cold-throttled'
    const name = commentsDocumentName(subject)
    await rest(s, 'PUT', `/api/v1/subjects/${subject}`, { bearer: TEST_API_KEY, json: { defaultRole: null } })
    budget = 0
    const answer = await rest(s, 'POST', `/api/v1/subjects/${subject}/threads`, { bearer: await s.token('ben'), json: { body: 'nope' } })
    expect(answer.status).toBe(429)
    // A document a REST write loaded stays loaded until the debounced store: this one never was.
    expect(s.server.hocuspocus.documents.has(name)).toBe(false)
    expect(s.server.hocuspocus.loadingDocuments.has(name)).toBe(false)
    expect(await s.server.storage.documents.exists(name)).toBe(false)
  })
})

async function loadDoc(s: TestServer, name: string): Promise<Y.Doc> {
  const stored = await s.server.storage.documents.load(name)
  const doc = new Y.Doc()
  if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
  for (const row of stored.log) Y.applyUpdate(doc, row.data)
  return doc
}

const ana: ParleyUser = { id: 'ana', name: 'Ana', handle: undefined, access: undefined, expiresAt: undefined }
const actor = { user: ana, role: 'comment' as const }

describe('the server writer’s scratch copy', () => {
  const name = 'comments/mirrored'
  let hocuspocus: Hocuspocus
  let holder: Awaited<ReturnType<Hocuspocus['openDirectConnection']>>
  let live: Y.Doc
  beforeEach(async () => {
    hocuspocus = new Hocuspocus({ quiet: true })
    holder = await hocuspocus.openDirectConnection(name)
    live = holder.document!
  })
  afterEach(async () => {
    await holder.disconnect()
  })

  it('is made once per loaded document and follows changes made elsewhere', async () => {
    const writer = createServerWriter({ hocuspocus, checkUpdate: allowEveryUpdate, whenStored: async () => undefined })
    const first = await writer.write(name, actor, (doc) => createThread({ doc, userId: 'ana' }, 'one'))
    expect(first.ok).toBe(true)
    expect(writer.mirrors.size).toBe(1)
    // A change that does not come through the writer (a socket, another instance) reaches the copy.
    const other = createThread({ doc: live, userId: 'ben' }, 'from elsewhere')
    const second = await writer.write(name, actor, (doc) => reply({ doc, userId: 'ana' }, other.threadId, 'two'))
    expect(second.ok).toBe(true)
    expect(writer.mirrors.size).toBe(1)
    expect(
      readThreads(live)
        .find((t) => t.id === other.threadId)
        ?.comments.map((c) => c.text),
    ).toEqual(['from elsewhere', 'two'])
    expect(live.store.pendingStructs).toBeNull()
  })

  it('discards a copy that holds a refused write: the next write does not see it', async () => {
    let refuse = true
    const writer = createServerWriter({
      hocuspocus,
      checkUpdate: () => (refuse ? { code: 'too_large', message: 'full' } : null),
      whenStored: async () => undefined,
    })
    const refused = await writer.write(name, actor, (doc) => createThread({ doc, userId: 'ana', newId: () => 'ghost' }, 'refused'))
    expect(refused).toEqual({ ok: false, error: { code: 'too_large', message: 'full' } })
    expect(writer.mirrors.size).toBe(0)
    refuse = false
    const reply_ = await writer.write(name, actor, (doc) => reply({ doc, userId: 'ana' }, 'ghost', 'to a ghost'))
    expect(reply_).toMatchObject({ ok: false, error: { code: 'not_found' } })
    expect(readThreads(live)).toEqual([])
  })

  it('runs concurrent writes to one document one after another, each on the state the previous left', async () => {
    const writer = createServerWriter({ hocuspocus, checkUpdate: async () => null, whenStored: async () => undefined })
    const start = await writer.write(name, actor, (doc) => createThread({ doc, userId: 'ana' }, 'start'))
    if (!start.ok) throw new Error('refused')
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => writer.write(name, actor, (doc) => reply({ doc, userId: 'ana' }, start.value.threadId, `reply ${i}`))),
    )
    expect(results.every((r) => r.ok)).toBe(true)
    expect(readThreads(live)[0]?.comments.map((c) => c.text)).toEqual(['start', ...Array.from({ length: 10 }, (_, i) => `reply ${i}`)])
    expect(live.store.pendingStructs).toBeNull()
    expect(writer.mirrors.size).toBe(1)
  })

  it('is dropped when the document unloads', async () => {
    const writer = createServerWriter({ hocuspocus, checkUpdate: allowEveryUpdate, whenStored: async () => undefined })
    await writer.write(name, actor, (doc) => createThread({ doc, userId: 'ana' }, 'one'))
    expect(writer.mirrors.size).toBe(1)
    await holder.disconnect()
    hocuspocus.flushPendingStores()
    await waitFor(() => !hocuspocus.documents.has(name), 'the document unloads')
    expect(writer.mirrors.size).toBe(0)
    holder = await hocuspocus.openDirectConnection(name)
  })

  it('is dropped after a while without writes, and made again for the next one', async () => {
    const writer = createServerWriter({ hocuspocus, checkUpdate: allowEveryUpdate, whenStored: async () => undefined, scratchIdleMs: 50 })
    await writer.write(name, actor, (doc) => createThread({ doc, userId: 'ana' }, 'one'))
    expect(writer.mirrors.size).toBe(1)
    await waitFor(() => writer.mirrors.size === 0, 'the idle copy is dropped', 2_000)
    const again = await writer.write(name, actor, (doc) => createThread({ doc, userId: 'ana' }, 'two'))
    expect(again.ok).toBe(true)
    expect(writer.mirrors.size).toBe(1)
    expect(
      readThreads(live)
        .map((t) => t.comments[0]?.text)
        .sort(),
    ).toEqual(['one', 'two'])
  })
})
