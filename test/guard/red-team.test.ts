/**
 * The red team: forged and out-of-scope updates sent with raw Yjs clients, one per rule and its
 * variants. Each is refused with its code, leaves storage and the server's document unchanged,
 * reaches no other client, and the honest clients keep working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread, deleteComment, react, readThreads, reply, setFollowing, setSubscription, threadsMap } from '../../protocol/index.ts'
import { rebuild } from '../helpers/comments.ts'
import { rawClient, type RawClient } from '../helpers/raw.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const SUBJECT = 'comments/red-team'

type Mutation = (doc: Y.Doc, ids: { thread: Y.Map<unknown>; anasComment: Y.Map<unknown>; ownDeleted: Y.Map<unknown> }) => void

function commentMap(thread: Y.Map<unknown>, index: number): Y.Map<unknown> {
  return (thread.get('comments') as Y.Array<Y.Map<unknown>>).get(index)
}

function newThread(fields: Record<string, unknown>, omit: string[] = []): Y.Map<unknown> {
  const all: Record<string, unknown> = {
    id: 'tx',
    createdBy: 'mallory',
    createdAt: Date.now(),
    comments: new Y.Array(),
    subscribers: new Y.Map(),
    readBy: new Y.Map(),
    metadata: new Y.Map(),
    ...fields,
  }
  return new Y.Map(Object.entries(all).filter(([k]) => !omit.includes(k)))
}

function newComment(fields: Record<string, unknown>, omit: string[] = []): Y.Map<unknown> {
  const all: Record<string, unknown> = { id: 'cx', authorId: 'mallory', createdAt: Date.now(), body: new Y.Text('x'), reactions: new Y.Map(), ...fields }
  return new Y.Map(Object.entries(all).filter(([k]) => !omit.includes(k)))
}

const comments = (thread: Y.Map<unknown>) => thread.get('comments') as Y.Array<Y.Map<unknown>>

/** [name, mutation, expected code]: at least one per rule. */
const ATTACKS: Array<[string, Mutation, string]> = [
  ['a thread created as another user', (doc) => threadsMap(doc).set('tx', newThread({ createdBy: 'ana' })), 'write_rejected'],
  ['a comment posted as another user', (_, { thread }) => comments(thread).push([newComment({ authorId: 'ana' })]), 'write_rejected'],
  ['a thread without a required field', (doc) => threadsMap(doc).set('tx', newThread({}, ['subscribers'])), 'write_rejected'],
  ['a comment without a body', (_, { thread }) => comments(thread).push([newComment({}, ['body'])]), 'write_rejected'],
  ['a comment body that is a string', (_, { thread }) => comments(thread).push([newComment({ body: 'plain' })]), 'write_rejected'],
  ['a thread whose id differs from its key', (doc) => threadsMap(doc).set('tx', newThread({ id: 'ty' })), 'write_rejected'],
  ['a thread key that is not an id', (doc) => threadsMap(doc).set('bad id!', newThread({ id: 'bad id!' })), 'write_rejected'],
  ['an existing thread replaced', (doc) => threadsMap(doc).set('t1', newThread({ id: 't1' })), 'write_rejected'],
  ['a thread removed', (doc) => threadsMap(doc).delete('t1'), 'write_rejected'],
  ['words inserted into another user’s comment', (_, { anasComment }) => (anasComment.get('body') as Y.Text).insert(0, 'forged '), 'write_rejected'],
  ['words deleted from another user’s comment', (_, { anasComment }) => (anasComment.get('body') as Y.Text).delete(0, 3), 'write_rejected'],
  ['another user’s comment formatted', (_, { anasComment }) => (anasComment.get('body') as Y.Text).format(0, 2, { mention: 'mallory' }), 'write_rejected'],
  ['another user’s comment soft-deleted', (_, { anasComment }) => anasComment.set('deletedAt', 5), 'write_rejected'],
  ['another user’s comment marked edited', (_, { anasComment }) => anasComment.set('editedAt', 5), 'write_rejected'],
  ['a comment’s author changed', (_, { anasComment }) => anasComment.set('authorId', 'mallory'), 'write_rejected'],
  ['a thread’s creator changed', (_, { thread }) => thread.set('createdBy', 'mallory'), 'write_rejected'],
  ['a comment removed from the array (hard delete)', (_, { thread }) => comments(thread).delete(0, 1), 'write_rejected'],
  ['a deleted comment undeleted', (_, { ownDeleted }) => ownDeleted.delete('deletedAt'), 'write_rejected'],
  ['a deleted comment’s deletedAt set to null', (_, { ownDeleted }) => ownDeleted.set('deletedAt', null), 'write_rejected'],
  ['a comment hidden without moderating', (_, { anasComment }) => anasComment.set('moderation', { hiddenBy: 'mallory', reason: 'x', at: 1 }), 'write_rejected'],
  ['a reaction in another user’s name', (_, { anasComment }) => (anasComment.get('reactions') as Y.Map<number>).set('👍|ana', 1), 'write_rejected'],
  ['another user’s reaction removed', (_, { anasComment }) => (anasComment.get('reactions') as Y.Map<number>).delete('👍|ana'), 'write_rejected'],
  ['a reaction key without a user', (_, { anasComment }) => (anasComment.get('reactions') as Y.Map<number>).set('👍', 1), 'write_rejected'],
  ['a reaction that is not a time', (_, { anasComment }) => (anasComment.get('reactions') as Y.Map<unknown>).set('👍|mallory', 'yes'), 'write_rejected'],
  ['another user subscribed', (_, { thread }) => (thread.get('subscribers') as Y.Map<boolean>).set('ana', false), 'write_rejected'],
  ['another user’s read marker', (_, { thread }) => (thread.get('readBy') as Y.Map<number>).set('ana', 9), 'write_rejected'],
  ['oneself made host', (doc) => doc.getMap('followers').set('mallory', 'host'), 'write_rejected'],
  ['another user unfollowed', (doc) => doc.getMap('followers').delete('ana'), 'write_rejected'],
  ['another user made a follower', (doc) => doc.getMap('followers').set('ben', 'follower'), 'write_rejected'],
  ['a root type outside the schema', (doc) => doc.getMap('evil').set('x', 1), 'write_rejected'],
  ['a thread field outside the schema', (_, { thread }) => thread.set('evil', 1), 'write_rejected'],
  ['a comment field outside the schema', (_, { anasComment }) => anasComment.set('evil', 1), 'write_rejected'],
  ['metadata of another user’s thread', (_, { thread }) => (thread.get('metadata') as Y.Map<unknown>).set('anchor', 'x'), 'write_rejected'],
  [
    'a thread resolved in another user’s name',
    (_, { thread }) =>
      doc(thread).transact(() => {
        thread.set('resolved', true)
        thread.set('resolvedBy', 'ana')
        thread.set('resolvedAt', 1)
      }),
    'write_rejected',
  ],
  ['a comment longer than the limit', (_, { thread }) => comments(thread).push([newComment({ body: new Y.Text('x'.repeat(10_001)) })]), 'too_large'],
  ['an update over the size limit', (_, { thread }) => comments(thread).push([newComment({ body: new Y.Text('y'.repeat(1_100_000)) })]), 'too_large'],
  [
    'a text attribute other than mention',
    (_, { thread }) => {
      const text = new Y.Text()
      text.applyDelta([{ insert: 'bold', attributes: { bold: true } }])
      comments(thread).push([newComment({ body: text })])
    },
    'write_rejected',
  ],
  [
    'a mention of something that is not a user id',
    (_, { thread }) => {
      const text = new Y.Text()
      text.applyDelta([{ insert: '@x', attributes: { mention: 'not an id!' } }])
      comments(thread).push([newComment({ body: text })])
    },
    'write_rejected',
  ],
  [
    'an embed in a comment body',
    (_, { thread }) => {
      const text = new Y.Text()
      text.insertEmbed(0, { image: 'x' })
      comments(thread).push([newComment({ body: text })])
    },
    'write_rejected',
  ],
  [
    'a forged item inside an otherwise valid update',
    (doc, { thread, anasComment }) =>
      doc.transact(() => {
        comments(thread).push([newComment({ id: 'c-ok' })])
        ;(anasComment.get('reactions') as Y.Map<number>).set('🎉|ana', 1)
      }),
    'write_rejected',
  ],
  [
    'a nested edit deep inside a new thread in another user’s name',
    (doc) => {
      const thread = newThread({})
      threadsMap(doc).set('tx', thread)
      comments(thread).push([newComment({ authorId: 'ana' })])
    },
    'write_rejected',
  ],
]

/** JSON with sorted keys: replicas list map entries in different orders. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  )
}

function doc(type: { doc: Y.Doc | null }): Y.Doc {
  if (!type.doc) throw new Error('not integrated')
  return type.doc
}

describe('red team', () => {
  let s: TestServer
  let ana: RawClient
  let ben: RawClient
  let ownDeletedId: string
  let barrier = 0

  /** The schema's roots, typed (a root the server never read is an untyped type until then). */
  const rootsJson = (d: Y.Doc | undefined) =>
    canonical(d ? { threads: d.getMap('threads').toJSON(), followers: d.getMap('followers').toJSON(), roots: [...d.share.keys()].sort() } : null)
  const serverJson = () => rootsJson(s.server.hocuspocus.documents.get(SUBJECT))
  const storedJson = async () => rootsJson(rebuild(await s.server.storage.documents.load(SUBJECT)))
  const clientJson = (client: RawClient) => rootsJson(client.doc)

  beforeAll(async () => {
    s = await startServer()
    ana = await rawClient(s.server.webSocketUrl, SUBJECT, await s.token('ana'))
    ben = await rawClient(s.server.webSocketUrl, SUBJECT, await s.token('ben'))
    let n = 0
    const anaCtx = { doc: ana.doc, userId: 'ana', newId: () => (n++ === 0 ? 't1' : `a${n}`) }
    createThread(anaCtx, 'Ana’s first words', { anchor: 'p1' })
    react(anaCtx, 't1', threadsMap(ana.doc).get('t1') ? (comments(threadsMap(ana.doc).get('t1')!).get(0).get('id') as string) : '', '👍')
    setSubscription(anaCtx, 't1', true)
    setFollowing(anaCtx, true)
    await waitFor(() => ana.provider.unsyncedChanges === 0, 'ana acknowledged')
    // A comment of mallory's own, deleted: it stays deleted, and no words show in it again.
    const mallory = await rawClient(s.server.webSocketUrl, SUBJECT, await s.token('mallory'))
    const malloryCtx = { doc: mallory.doc, userId: 'mallory' }
    ownDeletedId = reply(malloryCtx, 't1', 'soon deleted').commentId
    deleteComment(malloryCtx, 't1', ownDeletedId)
    await waitFor(() => mallory.provider.unsyncedChanges === 0, 'mallory acknowledged')
    mallory.destroy()
    await waitFor(() => serverJson() === clientJson(ana), 'server holds the setup')
  })

  afterAll(async () => {
    ana.destroy()
    ben.destroy()
    await s.dispose()
  })

  it(`has at least 30 attacks (${ATTACKS.length})`, () => {
    expect(ATTACKS.length).toBeGreaterThanOrEqual(30)
  })

  it.each(ATTACKS)('refuses %s', async (_name, mutate, code) => {
    const mallory = await rawClient(s.server.webSocketUrl, SUBJECT, await s.token('mallory'))
    try {
      const thread = threadsMap(mallory.doc).get('t1')!
      const ownDeleted = comments(thread)
        .toArray()
        .find((c) => c.get('id') === ownDeletedId)!
      mallory.doc.transact(() => mutate(mallory.doc, { thread, anasComment: commentMap(thread, 0), ownDeleted }))
      await waitFor(() => mallory.errors.length > 0, 'mallory is told')
      expect(mallory.errors[0]).toMatchObject({ type: 'parley.error', code, documentName: SUBJECT })
      expect(mallory.errors[0]?.reason.length).toBeGreaterThan(0)
      // Nothing applied, stored or broadcast: an honest write after it reaches ben, the forged one does not.
      barrier++
      setSubscription({ doc: ana.doc, userId: 'ana' }, 't1', barrier % 2 === 0)
      await waitFor(() => ana.provider.unsyncedChanges === 0, 'the honest write is acknowledged')
      await waitFor(() => clientJson(ben) === clientJson(ana), 'ben sees the honest write')
      expect(serverJson()).toBe(clientJson(ana))
      const stored = await storedJson()
      expect(stored).toBe(serverJson())
      expect(stored).not.toContain('"evil"')
      expect(stored).not.toContain('zombie')
    } finally {
      mallory.destroy()
    }
  })

  it('takes words its author writes into her deleted comment (an edit racing the deletion), and no reader ever sees them', async () => {
    const readBody = () =>
      readThreads(ben.doc)
        .flatMap((thread) => thread.comments)
        .find((comment) => comment.id === ownDeletedId)
    const seen: string[] = []
    const watch = () => seen.push(readBody()?.text ?? '')
    ben.doc.on('update', watch)
    const mallory = await rawClient(s.server.webSocketUrl, SUBJECT, await s.token('mallory'))
    try {
      const ownDeleted = comments(threadsMap(mallory.doc).get('t1')!)
        .toArray()
        .find((c) => c.get('id') === ownDeletedId)!
      ;(ownDeleted.get('body') as Y.Text).insert(0, 'zombie')
      await waitFor(() => mallory.provider.unsyncedChanges === 0, 'acknowledged')
      expect(mallory.errors).toEqual([])
      const bodyOf = (doc: Y.Doc | undefined) =>
        (
          comments(threadsMap(doc ?? new Y.Doc()).get('t1')!)
            .toArray()
            .find((c) => c.get('id') === ownDeletedId)
            ?.get('body') as Y.Text
        ).toString()
      // The server empties it again; everyone, and storage, ends with an empty body.
      await waitFor(() => bodyOf(ben.doc) === '' && bodyOf(mallory.doc) === '' && seen.length > 0, 'emptied everywhere')
      expect(bodyOf(s.server.hocuspocus.documents.get(SUBJECT))).toBe('')
      expect(bodyOf(rebuild(await s.server.storage.documents.load(SUBJECT)))).toBe('')
      expect(readBody()).toMatchObject({ deletedAt: expect.any(Number), text: '' })
      // No read of ben's document showed the words, whatever his Y.Text held for a moment.
      expect(seen.every((text) => text === '')).toBe(true)
    } finally {
      ben.doc.off('update', watch)
      mallory.destroy()
    }
  })

  it('refuses the same client id after a rejection, even for a valid write, until it rebuilds', async () => {
    const mallory = await rawClient(s.server.webSocketUrl, SUBJECT, await s.token('mallory'))
    try {
      const thread = threadsMap(mallory.doc).get('t1')!
      ;(thread.get('readBy') as Y.Map<number>).set('ana', 1)
      await waitFor(() => mallory.errors.length === 1, 'first refusal')
      // The same Y.Doc (same client id) opens the document again and writes something valid.
      mallory.provider.detach()
      mallory.provider.attach()
      reply({ doc: mallory.doc, userId: 'mallory' }, 't1', 'valid words')
      await waitFor(() => mallory.errors.length >= 2, 'second refusal')
      expect(mallory.errors[1]?.code).toBe('write_rejected')
      expect(mallory.errors[1]?.reason).toMatch(/client id/)
    } finally {
      mallory.destroy()
    }
    // A fresh document (new client id) may write.
    const again = await rawClient(s.server.webSocketUrl, SUBJECT, await s.token('mallory'))
    try {
      reply({ doc: again.doc, userId: 'mallory' }, 't1', 'from a rebuilt document')
      await waitFor(() => again.provider.unsyncedChanges === 0, 'acknowledged')
      expect(again.errors).toEqual([])
    } finally {
      again.destroy()
    }
  })

  it('refuses structs under another user’s client id', async () => {
    // Craft a struct at ana's next clock under ana's client id (Yjs itself would pick a new client
    // id on seeing its own in a remote update, so set it again after loading ana's state).
    const forger = new Y.Doc()
    Y.applyUpdate(forger, Y.encodeStateAsUpdate(ana.doc))
    forger.clientID = ana.doc.clientID
    const before = Y.encodeStateVector(forger)
    reply({ doc: forger, userId: 'mallory' }, 't1', 'under ana’s client id')
    const forged = Y.encodeStateAsUpdate(forger, before)
    const mallory = await rawClient(s.server.webSocketUrl, SUBJECT, await s.token('mallory'))
    try {
      Y.applyUpdate(mallory.doc, forged)
      await waitFor(() => mallory.errors.length > 0, 'refused')
      expect(mallory.errors[0]).toMatchObject({ code: 'write_rejected', reason: expect.stringMatching(/belongs to another user/) })
    } finally {
      mallory.destroy()
    }
    // Ana's own later edits still land (her clock chain is intact).
    reply({ doc: ana.doc, userId: 'ana' }, 't1', 'ana still writes')
    await waitFor(() => ana.provider.unsyncedChanges === 0 && clientJson(ben).includes('ana still writes'), 'ana’s edit lands')
  })

  it('lets moderators hide and soft-delete, but not rewrite words', async () => {
    const mod = await rawClient(s.server.webSocketUrl, SUBJECT, await s.token('mod', { access: { '*': 'moderate' } }))
    try {
      const thread = threadsMap(mod.doc).get('t1')!
      const target = commentMap(thread, 0)
      mod.doc.transact(() => {
        target.set('deletedAt', Date.now())
        target.set('moderation', { hiddenBy: 'mod', reason: 'spam', at: Date.now() })
      })
      await waitFor(() => mod.provider.unsyncedChanges === 0, 'moderation acknowledged')
      // The server empties the body of a deleted comment.
      await waitFor(
        () => ((threadsMap(ben.doc).get('t1') && commentMap(threadsMap(ben.doc).get('t1')!, 0).get('body')) as Y.Text).length === 0,
        'body emptied for everyone',
      )
      expect(mod.errors).toEqual([])
      ;(commentMap(thread, 1).get('body') as Y.Text).insert(0, 'rewritten by mod ')
      await waitFor(() => mod.errors.length > 0, 'rewrite refused')
      expect(mod.errors[0]?.code).toBe('write_rejected')
    } finally {
      mod.destroy()
    }
  })
})
