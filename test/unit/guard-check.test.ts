/**
 * The write guard's checker (`checkUpdate`) in process, on plain Y.Docs: the red team's table of
 * forged and out-of-scope updates (test/guard/red-team.test.ts sends the same over sockets), each
 * refused with its code and leaving the document as it was (honest writes: guard-honest.test.ts).
 */
import { beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MAX_CLOCK_SKEW_MS, reply, threadsMap } from '../../protocol/index.ts'
import { fingerprint, type GuardedDoc } from './guard-fixture.ts'
import { comments, docOf, mallory, mod, reader, setUp, T, targetsIn, type Targets } from './guard-world.ts'

type Mutation = (doc: Y.Doc, targets: Targets) => void

function newThread(fields: Record<string, unknown>, omit: string[] = []): Y.Map<unknown> {
  const all: Record<string, unknown> = {
    id: 'tx',
    createdBy: 'mallory',
    createdAt: T,
    comments: new Y.Array(),
    subscribers: new Y.Map(),
    readBy: new Y.Map(),
    metadata: new Y.Map(),
    ...fields,
  }
  return new Y.Map(Object.entries(all).filter(([k]) => !omit.includes(k)))
}

function newComment(fields: Record<string, unknown>, omit: string[] = []): Y.Map<unknown> {
  const all: Record<string, unknown> = { id: 'cx', authorId: 'mallory', createdAt: T, body: new Y.Text('x'), reactions: new Y.Map(), ...fields }
  return new Y.Map(Object.entries(all).filter(([k]) => !omit.includes(k)))
}

function textWith(delta: Array<{ insert: unknown; attributes?: Record<string, unknown> }>): Y.Text {
  const text = new Y.Text()
  text.applyDelta(delta)
  return text
}

/** [name, mutation, expected code, the rule's words in the reason]: at least one per rule (the socket red team's table, and more). */
const ATTACKS: Array<[string, Mutation, string, RegExp]> = [
  ['a thread created as another user', (doc) => threadsMap(doc).set('tx', newThread({ createdBy: 'ana' })), 'write_rejected', /createdBy must be the user/],
  ['a comment posted as another user', (_, { thread }) => comments(thread).push([newComment({ authorId: 'ana' })]), 'write_rejected', /another user/],
  ['a thread without a required field', (doc) => threadsMap(doc).set('tx', newThread({}, ['subscribers'])), 'write_rejected', /needs "subscribers"/],
  ['a comment without a body', (_, { thread }) => comments(thread).push([newComment({}, ['body'])]), 'write_rejected', /needs "body"/],
  ['a comment body that is a string', (_, { thread }) => comments(thread).push([newComment({ body: 'plain' })]), 'write_rejected', /body must be/],
  [
    'a comment body that is an XmlText (a subclass of Y.Text)',
    (_, { thread }) => comments(thread).push([newComment({ body: new Y.XmlText('x') })]),
    'write_rejected',
    /exactly/,
  ],
  ['a thread whose id differs from its key', (doc) => threadsMap(doc).set('tx', newThread({ id: 'ty' })), 'write_rejected', /match its key/],
  ['a thread key that is not an id', (doc) => threadsMap(doc).set('bad id!', newThread({ id: 'bad id!' })), 'write_rejected', /must be an id/],
  ['an existing thread replaced', (doc) => threadsMap(doc).set('t1', newThread({ id: 't1' })), 'write_rejected', /exists already/],
  ['a thread removed', (doc) => threadsMap(doc).delete('t1'), 'write_rejected', /cannot be removed|not the user/],
  [
    'words inserted into another user’s comment',
    (_, { anasComment }) => (anasComment.get('body') as Y.Text).insert(0, 'forged '),
    'write_rejected',
    /another user's comment body/,
  ],
  [
    'words deleted from another user’s comment',
    (_, { anasComment }) => (anasComment.get('body') as Y.Text).delete(0, 3),
    'write_rejected',
    /another user's comment body/,
  ],
  [
    'another user’s comment formatted',
    (_, { anasComment }) => (anasComment.get('body') as Y.Text).format(0, 2, { mention: 'mallory' }),
    'write_rejected',
    /another user's comment body/,
  ],
  ['another user’s comment soft-deleted', (_, { anasComment }) => anasComment.set('deletedAt', T), 'write_rejected', /another user's comment/],
  ['another user’s comment marked edited', (_, { anasComment }) => anasComment.set('editedAt', T), 'write_rejected', /another user's comment/],
  ['a comment’s author changed', (_, { anasComment }) => anasComment.set('authorId', 'mallory'), 'write_rejected', /authorId/],
  ['a comment’s id changed', (_, { anasComment }) => anasComment.set('id', 'c9'), 'write_rejected', /"id" cannot change/],
  ['a thread’s creator changed', (_, { thread }) => thread.set('createdBy', 'mallory'), 'write_rejected', /createdBy/],
  ['a comment removed from the array (hard delete)', (_, { thread }) => comments(thread).delete(0, 1), 'write_rejected', /cannot be removed|not the user/],
  ['a deleted comment undeleted', (_, { ownDeleted }) => ownDeleted.delete('deletedAt'), 'write_rejected', /"deletedAt" cannot be removed/],
  ['a deleted comment’s deletedAt set to null', (_, { ownDeleted }) => ownDeleted.set('deletedAt', null), 'write_rejected', /deletedAt must be a time/],
  [
    'words written into another user’s deleted comment',
    (_, { anasComment }) =>
      docOf(anasComment).transact(() => {
        anasComment.set('deletedAt', T)
        ;(anasComment.get('body') as Y.Text).insert(0, 'zombie')
      }),
    'write_rejected',
    /another user's comment/,
  ],
  [
    'a comment hidden without moderating',
    (_, { anasComment }) => anasComment.set('moderation', { hiddenBy: 'mallory', reason: 'x', at: T }),
    'write_rejected',
    /moderators/,
  ],
  [
    'a reaction in another user’s name',
    (_, { anasComment }) => (anasComment.get('reactions') as Y.Map<number>).set('👍|ana', T),
    'write_rejected',
    /reaction key/,
  ],
  [
    'another user’s reaction removed',
    (_, { anasComment }) => (anasComment.get('reactions') as Y.Map<number>).delete('👍|ana'),
    'write_rejected',
    /reaction key/,
  ],
  ['a reaction key without a user', (_, { anasComment }) => (anasComment.get('reactions') as Y.Map<number>).set('👍', T), 'write_rejected', /reaction key/],
  [
    'a reaction emoji over 32 characters',
    (_, { anasComment }) => (anasComment.get('reactions') as Y.Map<number>).set(`${'x'.repeat(33)}|mallory`, T),
    'write_rejected',
    /reaction key/,
  ],
  [
    'a reaction that is not a time',
    (_, { anasComment }) => (anasComment.get('reactions') as Y.Map<unknown>).set('👍|mallory', 'yes'),
    'write_rejected',
    /time/,
  ],
  [
    'a reaction time far in the future',
    (_, { anasComment }) => (anasComment.get('reactions') as Y.Map<number>).set('👍|mallory', Date.now() + MAX_CLOCK_SKEW_MS + 60_000),
    'write_rejected',
    /ahead of the server/,
  ],
  ['a read marker before 2020', (_, { thread }) => (thread.get('readBy') as Y.Map<number>).set('mallory', 5), 'write_rejected', /2020/],
  ['another user subscribed', (_, { thread }) => (thread.get('subscribers') as Y.Map<boolean>).set('ana', false), 'write_rejected', /subscribers/],
  [
    'a subscription that is not a boolean',
    (_, { thread }) => (thread.get('subscribers') as Y.Map<unknown>).set('mallory', 'yes'),
    'write_rejected',
    /true or false/,
  ],
  ['another user’s read marker', (_, { thread }) => (thread.get('readBy') as Y.Map<number>).set('ana', T), 'write_rejected', /readBy/],
  ['oneself made host', (doc) => doc.getMap('followers').set('mallory', 'host'), 'write_rejected', /host/],
  ['another user unfollowed', (doc) => doc.getMap('followers').delete('ana'), 'write_rejected', /follower/],
  ['another user made a follower', (doc) => doc.getMap('followers').set('ben', 'follower'), 'write_rejected', /follower/],
  ['a root type outside the schema', (doc) => doc.getMap('evil').set('x', 1), 'write_rejected', /outside the document schema/],
  ['a thread field outside the schema', (_, { thread }) => thread.set('evil', 1), 'write_rejected', /evil/],
  ['a comment field outside the schema', (_, { anasComment }) => anasComment.set('evil', 1), 'write_rejected', /evil/],
  [
    'metadata of another user’s thread',
    (_, { thread }) => (thread.get('metadata') as Y.Map<unknown>).set('anchor', 'x'),
    'write_rejected',
    /metadata of another user/,
  ],
  [
    'a metadata value that is an object',
    (doc) => threadsMap(doc).set('tx', newThread({ metadata: new Y.Map([['pos', { x: 1 }]]) })),
    'write_rejected',
    /string, finite number, boolean or null/,
  ],
  [
    'a metadata value over 4096 bytes',
    (doc) => threadsMap(doc).set('tx', newThread({ metadata: new Y.Map([['big', 'x'.repeat(5000)]]) })),
    'too_large',
    /4096 bytes/,
  ],
  [
    'more than 32 metadata keys',
    (doc) => threadsMap(doc).set('tx', newThread({ metadata: new Y.Map(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) })),
    'too_large',
    /32 keys/,
  ],
  [
    'a thread resolved in another user’s name',
    (_, { thread }) =>
      docOf(thread).transact(() => {
        thread.set('resolved', true)
        thread.set('resolvedBy', 'ana')
        thread.set('resolvedAt', T)
      }),
    'write_rejected',
    /resolvedBy/,
  ],
  [
    'a comment longer than the limit',
    (_, { thread }) => comments(thread).push([newComment({ body: new Y.Text('x'.repeat(10_001)) })]),
    'too_large',
    /10000 characters/,
  ],
  [
    'a text attribute other than mention',
    (_, { thread }) => comments(thread).push([newComment({ body: textWith([{ insert: 'bold', attributes: { bold: true } }]) })]),
    'write_rejected',
    /"bold"/,
  ],
  [
    'a mention of something that is not a user id',
    (_, { thread }) => comments(thread).push([newComment({ body: textWith([{ insert: '@x', attributes: { mention: 'not an id!' } }]) })]),
    'write_rejected',
    /mention/,
  ],
  [
    'an embed in a comment body',
    (_, { thread }) => comments(thread).push([newComment({ body: textWith([{ insert: { image: 'x' } }]) })]),
    'write_rejected',
    /text and mentions only/,
  ],
  ['a comment id already used in the document', (_, { thread }) => comments(thread).push([newComment({ id: 'c1' })]), 'write_rejected', /already used/],
  ['a reply whose parent is in no thread of it', (_, { thread }) => comments(thread).push([newComment({ parentId: 'nowhere' })]), 'write_rejected', /parentId/],
  ['a comment inserted before the thread’s first one', (_, { thread }) => comments(thread).insert(0, [newComment({})]), 'write_rejected', /first comment/],
  [
    'a forged item inside an otherwise valid update',
    (doc, { thread, anasComment }) =>
      doc.transact(() => {
        comments(thread).push([newComment({ id: 'c-ok' })])
        ;(anasComment.get('reactions') as Y.Map<number>).set('🎉|ana', T)
      }),
    'write_rejected',
    /reaction key/,
  ],
  [
    'a nested edit deep inside a new thread in another user’s name',
    (doc) => {
      const thread = newThread({})
      threadsMap(doc).set('tx', thread)
      comments(thread).push([newComment({ authorId: 'ana' })])
    },
    'write_rejected',
    /another user/,
  ],
]

describe('PROTOCOL §Write guard: forged and out-of-scope updates are refused with their code', () => {
  let server: GuardedDoc
  let ownDeletedId: string
  beforeEach(() => {
    ;({ server, ownDeletedId } = setUp())
  })

  it(`has at least 40 attacks (${ATTACKS.length})`, () => {
    expect(ATTACKS.length).toBeGreaterThanOrEqual(40)
  })

  it.each(ATTACKS)('refuses %s', (_name, mutate, code, reason) => {
    const replica = server.replica()
    const update = server.updateOf((doc) => doc.transact(() => mutate(doc, targetsIn(doc, ownDeletedId))), replica)
    const before = fingerprint(server.doc)
    const verdict = server.check(mallory, update)
    expect(verdict).toMatchObject({ ok: false, error: { code, reason: expect.stringMatching(reason) } })
    // Pure: the document is as it was.
    expect(fingerprint(server.doc)).toBe(before)
  })

  it('refuses structs under another user’s client id', () => {
    const forger = server.replica()
    // ana's client id from the setup: the first bound to her.
    const anasClient = [...Y.decodeStateVector(Y.encodeStateVector(server.doc)).keys()].find((client) => server.clients.ownerOf(client) === 'ana')!
    forger.clientID = anasClient
    const update = server.updateOf((doc) => reply({ doc, userId: 'mallory' }, 't1', 'under ana’s client id'), forger)
    expect(server.check(mallory, update)).toMatchObject({
      ok: false,
      error: { code: 'write_rejected', reason: expect.stringMatching(/belongs to another user/) },
    })
  })

  it('refuses a blocked client id, even for a valid write', () => {
    const replica = server.replica()
    server.clients.block([replica.clientID])
    const update = server.updateOf((doc) => reply({ doc, userId: 'mallory' }, 't1', 'valid words'), replica)
    expect(server.check(mallory, update)).toMatchObject({ ok: false, error: { code: 'write_rejected', reason: expect.stringMatching(/client id/) } })
    // The same write from a rebuilt document (a new client id) passes.
    expect(
      server.check(
        mallory,
        server.updateOf((doc) => reply({ doc, userId: 'mallory' }, 't1', 'valid words')),
      ),
    ).toMatchObject({ ok: true })
  })

  it('refuses bytes that are not an update', () => {
    expect(server.check(mallory, new Uint8Array([1, 1]))).toMatchObject({
      ok: false,
      error: {
        code: 'write_rejected',
        reason: expect.stringMatching(/cannot be decoded/),
      },
    })
  })

  it('refuses every write from the read role', () => {
    const update = server.updateOf((doc) => reply({ doc, userId: 'rita' }, 't1', 'a reader writes'))
    expect(server.check(reader, update)).toMatchObject({ ok: false, error: { code: 'write_rejected' } })
  })

  it('answers out_of_sync for an update that waits for another client’s structs the server does not have', () => {
    // A ghost writes a reply that never reaches the server; mallory replies to it.
    const ghost = server.replica()
    const ghostReply = reply({ doc: ghost, userId: 'ghost' }, 't1', 'never sent').commentId
    const replica = server.replica()
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(ghost))
    const update = server.updateOf((doc) => reply({ doc, userId: 'mallory' }, 't1', 'answer', ghostReply), replica)
    expect(server.check(mallory, update)).toMatchObject({ ok: false, error: { code: 'out_of_sync' } })
  })

  it('lets moderators hide and soft-delete, but not rewrite words', () => {
    const replica = server.replica()
    const hide = server.updateOf((doc) => {
      const target = targetsIn(doc, ownDeletedId).anasComment
      doc.transact(() => {
        target.set('deletedAt', T + 100)
        target.set('moderation', { hiddenBy: 'mod', reason: 'spam', at: T + 100 })
        ;(target.get('body') as Y.Text).delete(0, (target.get('body') as Y.Text).length)
      })
    }, replica)
    expect(server.accept(mod, hide)).toMatchObject({ ok: true })
    const rewrite = server.updateOf((doc) => (comments(threadsMap(doc).get('t1')!).get(1).get('body') as Y.Text).insert(0, 'rewritten by mod '), replica)
    expect(server.check(mod, rewrite)).toMatchObject({ ok: false, error: { code: 'write_rejected' } })
    expect(
      server.check(
        mod,
        server.updateOf((doc) => targetsIn(doc, ownDeletedId).anasComment.set('moderation', { hiddenBy: 'ana', reason: 'x', at: T })),
      ),
    ).toMatchObject({ ok: false })
    expect(
      server.check(
        mod,
        server.updateOf((doc) => doc.getMap('followers').set('ben', 'host')),
      ),
    ).toMatchObject({ ok: true })
  })
})
