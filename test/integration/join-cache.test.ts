/**
 * The join cache (issue 22, extensions/join-cache/) with real providers: fresh joiners of a large
 * document are synced from one encoding of it, a write drops that encoding, joins during writes
 * end with the writer's state, viewers get the content, and a joiner with offline edits is
 * answered by Hocuspocus as before.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { JOIN_CACHE_MIN_BYTES } from '../../extensions/join-cache/index.ts'
import { metricValue } from '../limits/sockets.ts'
import { addComment, addThread, commentTexts } from '../helpers/comments.ts'
import { acknowledged, connectClient, connectSynced, type TestClient } from '../helpers/provider.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

/** Fresh providers joining at once. */
const JOINERS = 12

/** Comments written before the joins, and the length of each: about 150 KB, past the threshold. */
const SEED_COMMENTS = 36
const SEED_CHARS = 4_000

const DOCUMENT = 'comments/join-cache'

describe('join cache', () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })

  async function server(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
    const s = await startServer(options)
    cleanup.push(() => s.dispose())
    return s
  }
  async function synced(s: TestServer, user: string, claims?: Parameters<TestServer['token']>[1], doc?: Y.Doc): Promise<TestClient> {
    const c = await connectSynced(s.server.webSocketUrl, DOCUMENT, await s.token(user, claims), doc)
    cleanup.push(() => c.destroy())
    return c
  }
  /** Fresh providers connecting at once; resolves when every one is synced. */
  async function joinAtOnce(s: TestServer, count: number, prefix: string): Promise<TestClient[]> {
    const tokens = await Promise.all(Array.from({ length: count }, (_, i) => s.token(`${prefix}-${i}`)))
    const clients = tokens.map((token) => connectClient(s.server.webSocketUrl, DOCUMENT, token))
    cleanup.push(() => clients.forEach((c) => c.destroy()))
    await waitFor(() => clients.every((c) => c.provider.isSynced || c.authFailure !== undefined), `${count} joiners synced`, 20_000)
    expect(clients.map((c) => c.authFailure)).toEqual(clients.map(() => undefined))
    return clients
  }
  async function seededWriter(s: TestServer): Promise<TestClient> {
    const writer = await synced(s, 'ana')
    addThread(writer.doc, 't1', 'ana')
    for (let i = 0; i < SEED_COMMENTS; i++) addComment(writer.doc, 't1', `c${i}`, 'ana', `${i} `.padEnd(SEED_CHARS, 'x'))
    await acknowledged(writer, 20_000)
    expect(Y.encodeStateAsUpdate(writer.doc).byteLength).toBeGreaterThan(JOIN_CACHE_MIN_BYTES)
    return writer
  }
  const answers = async (s: TestServer, result: string) =>
    metricValue(await s.server.metrics.registry.metrics(), 'parley_join_cache_answers_total', `result="${result}"`)
  const sameContent = (a: Y.Doc, b: Y.Doc) =>
    JSON.stringify(a.getMap('threads').toJSON()) === JSON.stringify(b.getMap('threads').toJSON()) &&
    Buffer.from(Y.encodeStateVector(a)).equals(Buffer.from(Y.encodeStateVector(b)))

  it('fresh joiners at once are synced from one encoding; a write drops it and the next joiner sees the write', async () => {
    const s = await server()
    const writer = await seededWriter(s)
    const joiners = await joinAtOnce(s, JOINERS, 'joiner')
    // Synced means the whole document already: nothing arrives later that could mend a gap.
    for (const joiner of joiners) {
      expect(commentTexts(joiner.doc, 't1')).toHaveLength(SEED_COMMENTS)
      expect(sameContent(joiner.doc, writer.doc)).toBe(true)
      expect(joiner.doc.store.pendingStructs).toBeNull()
    }
    expect(await answers(s, 'miss')).toBe(1)
    expect(await answers(s, 'hit')).toBe(JOINERS - 1)

    addComment(writer.doc, 't1', 'after', 'ana', 'written after the joins')
    await acknowledged(writer)
    const late = await synced(s, 'late')
    expect(commentTexts(late.doc, 't1').at(-1)).toBe('written after the joins')
    expect(sameContent(late.doc, writer.doc)).toBe(true)
    expect(await answers(s, 'miss')).toBe(2)
  })

  it('joiners arriving while the writer keeps writing end with the writer’s final state', async () => {
    const s = await server()
    const writer = await seededWriter(s)
    const tokens = await Promise.all(Array.from({ length: JOINERS }, (_, i) => s.token(`joiner-${i}`)))
    const joiners: TestClient[] = []
    cleanup.push(() => joiners.forEach((c) => c.destroy()))
    // One joiner every write, each write acknowledged before the next, until every joiner is synced.
    let written = 0
    while (joiners.length < JOINERS || !joiners.every((c) => c.provider.isSynced)) {
      const token = tokens[joiners.length]
      if (token !== undefined) joiners.push(connectClient(s.server.webSocketUrl, DOCUMENT, token))
      addComment(writer.doc, 't1', `live-${written}`, 'ana', `live ${written}`)
      written++
      await acknowledged(writer)
    }
    expect(written).toBeGreaterThanOrEqual(JOINERS)
    for (const joiner of joiners) await waitFor(() => sameContent(joiner.doc, writer.doc), 'the joiner has the writer’s state')
    for (const joiner of joiners) expect(commentTexts(joiner.doc, 't1')).toHaveLength(SEED_COMMENTS + written)
    expect(await answers(s, 'miss')).toBeGreaterThanOrEqual(1)
  })

  it('a viewer (read role) gets the content from the cache', async () => {
    const s = await server()
    const writer = await seededWriter(s)
    await synced(s, 'warm')
    const viewer = await synced(s, 'vic', { access: { [DOCUMENT]: 'read' } })
    expect(viewer.provider.authorizedScope).toBe('readonly')
    expect(sameContent(viewer.doc, writer.doc)).toBe(true)
    expect(await answers(s, 'hit')).toBe(1)
  })

  it('a joiner with offline edits (a state vector) is answered by Hocuspocus and syncs both ways', async () => {
    const s = await server()
    const writer = await seededWriter(s)
    // Dan saw the document once, then wrote offline while Ana kept writing.
    const offline = new Y.Doc()
    Y.applyUpdate(offline, Y.encodeStateAsUpdate(writer.doc))
    addComment(offline, 't1', 'dan-offline', 'dan', 'written offline')
    addComment(writer.doc, 't1', 'ana-meanwhile', 'ana', 'written meanwhile')
    await acknowledged(writer)
    const dan = await synced(s, 'dan', undefined, offline)
    await acknowledged(dan)
    await waitFor(() => commentTexts(writer.doc, 't1').includes('written offline'), 'the writer sees the offline edit')
    await waitFor(() => sameContent(dan.doc, writer.doc), 'both have the same state')
    expect(commentTexts(dan.doc, 't1')).toContain('written meanwhile')
    expect(await answers(s, 'miss')).toBe(0)
    expect(await answers(s, 'hit')).toBe(0)
  })

  it('a small document is answered by Hocuspocus alone once its size is known', async () => {
    const s = await server()
    const writer = await synced(s, 'ana')
    addThread(writer.doc, 't1', 'ana')
    addComment(writer.doc, 't1', 'c0', 'ana', 'small')
    await acknowledged(writer)
    // The first fresh joiner after the load learns the size; later ones are not rewritten.
    const joiners = await joinAtOnce(s, 3, 'small')
    const learnt = await answers(s, 'miss')
    expect(learnt).toBeGreaterThanOrEqual(1)
    expect(learnt).toBeLessThanOrEqual(3)
    const more = await joinAtOnce(s, 3, 'more')
    for (const joiner of [...joiners, ...more]) expect(sameContent(joiner.doc, writer.doc)).toBe(true)
    expect(await answers(s, 'miss')).toBe(learnt)
    expect(await answers(s, 'hit')).toBe(0)
  })

  it('without the join cache the same joins are synced too (the comparison the tests rely on)', async () => {
    const s = await server({ joinCache: false })
    const writer = await seededWriter(s)
    const joiners = await joinAtOnce(s, 4, 'joiner')
    for (const joiner of joiners) expect(sameContent(joiner.doc, writer.doc)).toBe(true)
    expect(await answers(s, 'miss')).toBe(0)
  })
})
