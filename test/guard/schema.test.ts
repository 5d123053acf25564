/**
 * Schema integrity over the wire: forged updates from raw Yjs clients (duplicate comment ids,
 * comments before a thread's first one, absurd times, dangling parentId, Y.XmlText bodies,
 * non-primitive or too many metadata entries, absurd inbox marks) are refused with a reason that
 * names the field, never stored or broadcast, and leave REST answering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread, INBOX_NOTIFICATIONS, MAX_CLOCK_SKEW_MS, readInbox, readThreads, setSubscription, threadsMap } from '../../protocol/index.ts'
import { rebuild } from '../helpers/comments.ts'
import { rawClient, type RawClient } from '../helpers/raw.ts'
import { codeOf, rest } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from '../notifications/setup.ts'

const SUBJECT = 'comments/schema'

type Thread = Y.Map<unknown>
const commentsOf = (thread: Thread) => thread.get('comments') as Y.Array<Y.Map<unknown>>

function comment(id: string, extra: Record<string, unknown> = {}): Y.Map<unknown> {
  return new Y.Map<unknown>(Object.entries({ id, authorId: 'mallory', createdAt: Date.now(), body: new Y.Text('forged'), reactions: new Y.Map(), ...extra }))
}

/** [name, forged write into ana's thread t1 (first comment c1), code, reason]. */
const FORGERIES: Array<[string, (doc: Y.Doc, thread: Thread) => void, string, RegExp]> = [
  ['a second comment "c1"', (_, t) => commentsOf(t).push([comment('c1')]), 'write_rejected', /comment id "c1" is already used/],
  ['a comment placed before the first one', (_, t) => commentsOf(t).insert(0, [comment('m-first')]), 'write_rejected', /after the thread's first comment/],
  ['a comment with createdAt 0', (_, t) => commentsOf(t).push([comment('m0', { createdAt: 0 })]), 'write_rejected', /comment createdAt/],
  ['a comment with createdAt 1e300', (_, t) => commentsOf(t).push([comment('m1', { createdAt: 1e300 })]), 'write_rejected', /comment createdAt/],
  [
    'a comment dated an hour ahead',
    (_, t) => commentsOf(t).push([comment('m2', { createdAt: Date.now() + 6 * MAX_CLOCK_SKEW_MS })]),
    'write_rejected',
    /comment createdAt .*ahead/,
  ],
  ['a read marker at 1e300', (_, t) => (t.get('readBy') as Y.Map<number>).set('mallory', 1e300), 'write_rejected', /readBy/],
  ['a parentId that names no comment', (_, t) => commentsOf(t).push([comment('m3', { parentId: 'ghost' })]), 'write_rejected', /parentId "ghost"/],
  [
    'a Y.XmlText body',
    (_, t) => commentsOf(t).push([comment('m4', { body: new Y.XmlText('xml') })]),
    'write_rejected',
    /comment\.body must be exactly a YText/,
  ],
  [
    'a thread of mallory’s with binary metadata',
    (doc) => {
      createThread({ doc, userId: 'mallory', newId: () => `mt-${Math.random().toString(36).slice(2)}` }, 'mine', {})
      const own = [...threadsMap(doc).values()].find((t) => t.get('createdBy') === 'mallory')!
      ;(own.get('metadata') as Y.Map<unknown>).set('blob', new Uint8Array(64))
    },
    'write_rejected',
    /metadata "blob" must be a string/,
  ],
  [
    'a thread of mallory’s with a sub-document as metadata',
    (doc) => {
      createThread({ doc, userId: 'mallory', newId: () => `ms-${Math.random().toString(36).slice(2)}` }, 'mine', {})
      const own = [...threadsMap(doc).values()].find((t) => t.get('createdBy') === 'mallory')!
      ;(own.get('metadata') as Y.Map<unknown>).set('doc', new Y.Doc())
    },
    'write_rejected',
    /metadata "doc" must be a string/,
  ],
  [
    // 100 keys: the metadata cap refuses it (10,000, as in the finding, are refused by the work budget first).
    'a thread of mallory’s with 100 metadata keys',
    (doc) => createThread({ doc, userId: 'mallory' }, 'mine', Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]))),
    'too_large',
    /at most 32 keys/,
  ],
]

describe('schema integrity over the wire', () => {
  let s: TestServer
  let ana: RawClient
  let ben: RawClient
  let barrier = 0
  const serverDoc = () => s.server.hocuspocus.documents.get(SUBJECT)
  const json = (doc: Y.Doc | undefined) => JSON.stringify(doc ? readThreads(doc) : null)

  beforeAll(async () => {
    s = await startServer()
    ana = await rawClient(s.server.webSocketUrl, SUBJECT, await s.token('ana'))
    ben = await rawClient(s.server.webSocketUrl, SUBJECT, await s.token('ben'))
    const next = ['t1', 'c1']
    createThread({ doc: ana.doc, userId: 'ana', newId: () => next.shift() ?? 'x' }, 'Ana’s first words', { anchor: 'p1' })
    await waitFor(() => ana.provider.unsyncedChanges === 0 && json(ben.doc) === json(ana.doc), 'the thread reached ben')
  })

  afterAll(async () => {
    ana.destroy()
    ben.destroy()
    await s.dispose()
  })

  it.each(FORGERIES)('refuses %s', async (_name, forge, code, reason) => {
    const mallory = await rawClient(s.server.webSocketUrl, SUBJECT, await s.token('mallory'))
    try {
      mallory.doc.transact(() => forge(mallory.doc, threadsMap(mallory.doc).get('t1')!))
      await waitFor(() => mallory.errors.length > 0, 'mallory is told')
      expect(mallory.errors[0]).toMatchObject({ type: 'parley.error', code, documentName: SUBJECT, reason: expect.stringMatching(reason) })
      // Nothing applied, stored or broadcast: an honest write after it reaches ben, the forged one does not.
      setSubscription({ doc: ana.doc, userId: 'ana' }, 't1', ++barrier % 2 === 0)
      await waitFor(() => ana.provider.unsyncedChanges === 0 && json(ben.doc) === json(ana.doc), 'ben sees the honest write')
      expect(json(serverDoc())).toBe(json(ana.doc))
      expect(json(rebuild(await s.server.storage.documents.load(SUBJECT)))).toBe(json(ana.doc))
      const [thread] = readThreads(ana.doc)
      expect(readThreads(ana.doc)).toHaveLength(1)
      expect(thread?.comments.map((c) => c.id)).toEqual(['c1'])
    } finally {
      mallory.destroy()
    }
  })

  it('keeps REST answering for the thread: parentId c1 still finds Ana’s comment', async () => {
    const answer = await rest<{ commentId: string }>(s, 'POST', '/api/v1/subjects/schema/threads/t1/comments', {
      bearer: await s.token('ben'),
      json: { body: 'replying to Ana', parentId: 'c1' },
    })
    expect(answer.status).toBe(201)
    const listed = await rest<{ threads: Array<{ comments: Array<{ id: string; authorId: string; parentId: string | null }> }> }>(
      s,
      'GET',
      '/api/v1/subjects/schema/threads',
      {
        bearer: await s.token('ben'),
      },
    )
    expect(listed.status).toBe(200)
    const ids = listed.body.threads[0]?.comments.map((c) => [c.id, c.authorId, c.parentId])
    expect(ids).toEqual([
      ['c1', 'ana', null],
      [answer.body.commentId, 'ben', 'c1'],
    ])
  })
})

describe('inbox marks over the wire', () => {
  let world: World
  beforeAll(async () => {
    world = await startWorld()
    await registerSubject(world.s, 'post-1')
  })
  afterAll(async () => {
    await world.dispose()
  })

  it('refuses readAt 1e300 and GET /api/v1/notifications keeps answering 200', async () => {
    const ana = await world.open('post-1', 'ana')
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text: 'look ' }, { text: '@Ben', mention: 'ben' }])
    const benToken = await world.s.token('ben')
    const inbox = await rawClient(world.s.server.webSocketUrl, 'inbox/ben', benToken)
    try {
      await waitFor(() => readInbox(inbox.doc).length === 1, 'the mention in ben’s inbox document')
      const [entry] = readInbox(inbox.doc)
      const map = inbox.doc.getMap(INBOX_NOTIFICATIONS).get(entry!.id) as Y.Map<unknown>
      map.set('readAt', 1e300)
      await waitFor(() => inbox.errors.length > 0, 'ben is told')
      expect(inbox.errors[0]).toMatchObject({ code: 'write_rejected', reason: expect.stringMatching(/notification readAt/) })
      const listed = await rest<{ notifications: Array<{ id: string; readAt: number | null; archivedAt: number | null }> }>(
        world.s,
        'GET',
        '/api/v1/notifications',
        { bearer: benToken },
      )
      expect(listed.status).toBe(200)
      expect(listed.body.notifications).toMatchObject([{ id: entry!.id, readAt: null }])
      const count = await rest<{ count: number }>(world.s, 'GET', '/api/v1/notifications/unread-count', { bearer: benToken })
      expect(count).toMatchObject({ status: 200, body: { count: 1 } })
      expect(codeOf(count)).toBeUndefined()
      expect((await world.notifications('ben'))[0]).toMatchObject({ readAt: null })

      // Archived before the notification existed: refused too (a rebuilt document, a new client id).
      const early = await rawClient(world.s.server.webSocketUrl, 'inbox/ben', benToken)
      try {
        ;(early.doc.getMap(INBOX_NOTIFICATIONS).get(entry!.id) as Y.Map<unknown>).set('archivedAt', entry!.createdAt - 60_000)
        await waitFor(() => early.errors.length > 0, 'ben is told again')
        expect(early.errors[0]).toMatchObject({
          code: 'write_rejected',
          reason: expect.stringMatching(/notification archivedAt must not be before the notification's createdAt/),
        })
      } finally {
        early.destroy()
      }
      expect((await world.notifications('ben'))[0]).toMatchObject({ readAt: null, archivedAt: null })

      // An honest mark from a rebuilt document lands, and REST follows.
      const before = Date.now()
      const again = await rawClient(world.s.server.webSocketUrl, 'inbox/ben', benToken)
      try {
        ;(again.doc.getMap(INBOX_NOTIFICATIONS).get(entry!.id) as Y.Map<unknown>).set('readAt', Date.now())
        await waitFor(
          async () => (await rest<{ count: number }>(world.s, 'GET', '/api/v1/notifications/unread-count', { bearer: benToken })).body.count === 0,
          'REST sees the honest mark',
        )
        expect(again.errors).toEqual([])
        const after = await rest<{ notifications: Array<{ readAt: number | null }> }>(world.s, 'GET', '/api/v1/notifications', { bearer: benToken })
        expect(after.status).toBe(200)
        expect(after.body.notifications[0]?.readAt).toBeGreaterThanOrEqual(before)
      } finally {
        again.destroy()
      }
    } finally {
      inbox.destroy()
    }
  })
})
