/**
 * protocol/comments: the typed writers and readers of `comments/<subjectId>` documents, in process.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  CommentField,
  ErrorCode,
  LOCAL_WRITE,
  MAX_COMMENT_LENGTH,
  ParleyError,
  createThread,
  deleteComment,
  editComment,
  followersMap,
  markRead,
  mentionedIds,
  normalizeBody,
  react,
  reactionKey,
  readComment,
  readFollowers,
  readThreads,
  reply,
  setFollowing,
  setResolved,
  setSubscription,
  threadsMap,
  unreact,
  type WriteContext,
} from '../../protocol/index.ts'

const T0 = 1_700_000_000_000

function writer(doc: Y.Doc, userId: string, times: number[], ids: string[] = []): WriteContext {
  return { doc, userId, now: () => times.shift() ?? T0, newId: () => ids.shift() ?? globalThis.crypto.randomUUID() }
}

function sync(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
}

function refusal(write: () => void): ErrorCode | null {
  try {
    write()
    return null
  } catch (error) {
    if (error instanceof ParleyError) return error.code
    throw error
  }
}

describe('PROTOCOL §Comment document schema: the worked example', () => {
  it('writes the document and reads the threads exactly as documented', () => {
    const doc = new Y.Doc()
    const ana = writer(doc, 'u_ana', [T0, T0, T0 + 61_000, T0 + 61_000], ['t1', 'c1'])
    const ben = writer(doc, 'u_ben', [T0 + 60_000], ['c2'])
    createThread(ana, [{ text: 'Looks good, ' }, { text: '@Ben', mention: 'u_ben' }, { text: '?' }], { anchor: 'p3' })
    reply(ben, 't1', 'Agreed.', 'c1')
    react(ana, 't1', 'c2', '👍')
    markRead(ana, 't1')
    setSubscription(ben, 't1', true)
    setFollowing(ben, true)

    expect(doc.getMap('threads').toJSON()).toEqual({
      t1: {
        id: 't1',
        createdBy: 'u_ana',
        createdAt: T0,
        comments: [
          { id: 'c1', authorId: 'u_ana', createdAt: T0, body: 'Looks good, @Ben?', reactions: {} },
          { id: 'c2', authorId: 'u_ben', createdAt: T0 + 60_000, body: 'Agreed.', reactions: { '👍|u_ana': T0 + 61_000 }, parentId: 'c1' },
        ],
        subscribers: { u_ben: true },
        readBy: { u_ana: T0 + 61_000 },
        metadata: { anchor: 'p3' },
      },
    })
    expect(doc.getMap('followers').toJSON()).toEqual({ u_ben: 'follower' })
    const first = (threadsMap(doc).get('t1')!.get('comments') as Y.Array<Y.Map<unknown>>).get(0).get('body') as Y.Text
    expect(first.toDelta()).toEqual([{ insert: 'Looks good, ' }, { insert: '@Ben', attributes: { mention: 'u_ben' } }, { insert: '?' }])

    expect(readThreads(doc)).toEqual([
      {
        id: 't1',
        createdBy: 'u_ana',
        createdAt: T0,
        resolved: false,
        resolvedBy: null,
        resolvedAt: null,
        comments: [
          {
            id: 'c1',
            authorId: 'u_ana',
            createdAt: T0,
            editedAt: null,
            deletedAt: null,
            parentId: null,
            moderation: null,
            body: [{ text: 'Looks good, ' }, { text: '@Ben', mention: 'u_ben' }, { text: '?' }],
            text: 'Looks good, @Ben?',
            mentions: ['u_ben'],
            reactions: [],
          },
          {
            id: 'c2',
            authorId: 'u_ben',
            createdAt: T0 + 60_000,
            editedAt: null,
            deletedAt: null,
            parentId: 'c1',
            moderation: null,
            body: [{ text: 'Agreed.' }],
            text: 'Agreed.',
            mentions: [],
            reactions: [{ emoji: '👍', userIds: ['u_ana'] }],
          },
        ],
        subscribers: { u_ben: true },
        readBy: { u_ana: T0 + 61_000 },
        metadata: { anchor: 'p3' },
      },
    ])
    expect(readFollowers(doc)).toEqual({ u_ben: 'follower' })
  })
})

describe('PROTOCOL §Comment document schema: writers', () => {
  it('make each operation one transaction with origin LOCAL_WRITE, nested types created with their parent', () => {
    const doc = new Y.Doc()
    const origins: unknown[] = []
    doc.on('afterTransaction', (tr: Y.Transaction) => origins.push(tr.origin))
    const ana = writer(doc, 'ana', [], ['t1', 'c1', 'c2'])
    createThread(ana, 'first')
    reply(ana, 't1', 'second')
    editComment(ana, 't1', 'c2', 'second, edited')
    setResolved(ana, 't1', true)
    expect(origins).toEqual([LOCAL_WRITE, LOCAL_WRITE, LOCAL_WRITE, LOCAL_WRITE])
    const thread = threadsMap(doc).get('t1')!
    for (const field of ['comments', 'subscribers', 'readBy', 'metadata']) expect(thread.get(field), field).toBeInstanceOf(Y.AbstractType)
  })

  it('edit replaces the body and sets editedAt; delete sets deletedAt and empties the body', () => {
    const doc = new Y.Doc()
    const ana = writer(doc, 'ana', [T0, T0, T0 + 5, T0 + 9], ['t1', 'c1'])
    createThread(ana, 'before')
    editComment(ana, 't1', 'c1', [{ text: 'after ' }, { text: '@Ben', mention: 'ben' }])
    let [comment] = readThreads(doc)[0]!.comments
    expect(comment).toMatchObject({ text: 'after @Ben', mentions: ['ben'], editedAt: T0 + 5 })
    deleteComment(ana, 't1', 'c1')
    ;[comment] = readThreads(doc)[0]!.comments
    expect(comment).toMatchObject({ deletedAt: T0 + 9, body: [], text: '', mentions: [] })
    const body = (threadsMap(doc).get('t1')!.get('comments') as Y.Array<Y.Map<unknown>>).get(0).get(CommentField.body) as Y.Text
    expect(body.length).toBe(0)
  })

  it('react / unreact set and remove the flat key "<emoji>|<userId>", and do nothing when already so', () => {
    const doc = new Y.Doc()
    const ana = writer(doc, 'ana', [T0, T0, T0 + 1, T0 + 2], ['t1', 'c1'])
    createThread(ana, 'x')
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    react(ana, 't1', 'c1', '👍')
    react(ana, 't1', 'c1', '👍')
    expect(updates).toHaveLength(1)
    expect(reactionKey('👍', 'ana')).toBe('👍|ana')
    unreact(ana, 't1', 'c1', '👍')
    unreact(ana, 't1', 'c1', '👍')
    expect(updates).toHaveLength(2)
    expect(readThreads(doc)[0]!.comments[0]!.reactions).toEqual([])
  })

  it('setResolved writes resolvedBy and resolvedAt, and removes them when reopening', () => {
    const doc = new Y.Doc()
    const ana = writer(doc, 'ana', [T0, T0, T0 + 3], ['t1', 'c1'])
    createThread(ana, 'x')
    setResolved(writer(doc, 'ben', [T0 + 3]), 't1', true)
    expect(readThreads(doc)[0]).toMatchObject({ resolved: true, resolvedBy: 'ben', resolvedAt: T0 + 3 })
    setResolved(ana, 't1', false)
    expect(readThreads(doc)[0]).toMatchObject({ resolved: false, resolvedBy: null, resolvedAt: null })
    expect(threadsMap(doc).get('t1')!.has('resolvedBy')).toBe(false)
  })

  it.each<[string, (doc: Y.Doc) => void, ErrorCode]>([
    ['an empty body', (doc) => createThread(writer(doc, 'ana', []), ''), ErrorCode.InvalidRequest],
    ['a body of empty runs', (doc) => createThread(writer(doc, 'ana', []), [{ text: '' }]), ErrorCode.InvalidRequest],
    [`a body over ${MAX_COMMENT_LENGTH} characters`, (doc) => createThread(writer(doc, 'ana', []), 'x'.repeat(MAX_COMMENT_LENGTH + 1)), ErrorCode.TooLarge],
    ['a mention that is not a user id', (doc) => createThread(writer(doc, 'ana', []), [{ text: '@x', mention: 'not an id!' }]), ErrorCode.InvalidRequest],
    ['a reply to a missing thread', (doc) => reply(writer(doc, 'ana', []), 'nope', 'x'), ErrorCode.NotFound],
    ['a reply to a missing comment', (doc) => reply(writer(doc, 'ana', []), 't1', 'x', 'nope'), ErrorCode.NotFound],
    ['an edit of another user’s comment', (doc) => editComment(writer(doc, 'ben', []), 't1', 'c1', 'forged'), ErrorCode.WriteRejected],
    ['a deletion of another user’s comment', (doc) => deleteComment(writer(doc, 'ben', []), 't1', 'c1'), ErrorCode.WriteRejected],
    ['an edit of a deleted comment', (doc) => editComment(writer(doc, 'ana', []), 't1', 'gone', 'again'), ErrorCode.WriteRejected],
    ['an empty emoji', (doc) => react(writer(doc, 'ana', []), 't1', 'c1', ''), ErrorCode.InvalidRequest],
    ['an emoji with "|"', (doc) => react(writer(doc, 'ana', []), 't1', 'c1', 'a|b'), ErrorCode.InvalidRequest],
    ['an emoji over 32 characters', (doc) => react(writer(doc, 'ana', []), 't1', 'c1', 'x'.repeat(33)), ErrorCode.InvalidRequest],
    ['a host unfollowing', (doc) => setFollowing(writer(doc, 'hana', []), false), ErrorCode.WriteRejected],
  ])('refuse %s with its code, before anything is written', (_name, write, code) => {
    const doc = new Y.Doc()
    const ana = writer(doc, 'ana', [], ['t1', 'c1', 'gone'])
    createThread(ana, 'first')
    reply(ana, 't1', 'to delete')
    deleteComment(ana, 't1', 'gone')
    followersMap(doc).set('hana', 'host')
    const before = Y.encodeStateVector(doc)
    expect(refusal(() => write(doc))).toBe(code)
    expect(Y.encodeStateVector(doc)).toEqual(before)
  })

  it('normalizeBody drops empty runs and counts UTF-16 code units', () => {
    expect(normalizeBody([{ text: 'a' }, { text: '' }, { text: '@B', mention: 'b' }])).toEqual([{ text: 'a' }, { text: '@B', mention: 'b' }])
    expect(() => normalizeBody('😀'.repeat(MAX_COMMENT_LENGTH / 2))).not.toThrow()
    expect(refusal(() => normalizeBody(`${'😀'.repeat(MAX_COMMENT_LENGTH / 2)}x`))).toBe(ErrorCode.TooLarge)
    expect(mentionedIds([{ text: 'a', mention: 'x' }, { text: 'b' }, { text: 'c', mention: 'x' }, { text: 'd', mention: 'y' }])).toEqual(['x', 'y'])
  })
})

describe('PROTOCOL §Comment document schema: concurrent writers on two replicas', () => {
  it('first reactions of two users never overwrite each other; both replicas read the same', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    createThread(writer(a, 'ana', [T0, T0], ['t1', 'c1']), 'x')
    sync(a, b)
    react(writer(a, 'ana', [T0 + 1]), 't1', 'c1', '👍')
    react(writer(b, 'ben', [T0 + 2]), 't1', 'c1', '👍')
    react(writer(b, 'ben', [T0 + 3]), 't1', 'c1', '🎉')
    markRead(writer(a, 'ana', [T0 + 4]), 't1')
    markRead(writer(b, 'ben', [T0 + 5]), 't1')
    sync(a, b)
    expect(readThreads(a)).toEqual(readThreads(b))
    expect(readThreads(a)[0]!.comments[0]!.reactions).toEqual([
      { emoji: '👍', userIds: ['ana', 'ben'] },
      { emoji: '🎉', userIds: ['ben'] },
    ])
    expect(readThreads(a)[0]!.readBy).toEqual({ ana: T0 + 4, ben: T0 + 5 })
  })

  it('two offline replies land both, in the same order on both replicas', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    createThread(writer(a, 'ana', [T0, T0], ['t1', 'c1']), 'x')
    sync(a, b)
    reply(writer(a, 'ana', [T0 + 1], ['ra']), 't1', 'from a')
    reply(writer(b, 'ben', [T0 + 1], ['rb']), 't1', 'from b')
    sync(a, b)
    const ids = readThreads(a)[0]!.comments.map((c) => c.id)
    expect(ids).toHaveLength(3)
    expect(ids).toEqual(readThreads(b)[0]!.comments.map((c) => c.id))
    expect(new Set(ids)).toEqual(new Set(['c1', 'ra', 'rb']))
  })
})

describe('PROTOCOL §Comment document schema: readers tolerate partial or foreign data', () => {
  it('skip threads without id or createdBy and comments without id or authorId; wrong types read as null', () => {
    const doc = new Y.Doc()
    doc.transact(() => {
      const threads = threadsMap(doc)
      threads.set('noid', new Y.Map<unknown>([['createdBy', 'ana']]))
      threads.set('nocreator', new Y.Map<unknown>([['id', 'nocreator']]))
      const comments = new Y.Array<Y.Map<unknown>>()
      comments.push([
        new Y.Map<unknown>([['id', 'c0']]),
        new Y.Map<unknown>([
          ['id', 'c1'],
          ['authorId', 'ana'],
          ['createdAt', 'yesterday'],
          ['editedAt', Number.NaN],
          ['body', 'plain string'],
          ['moderation', { hiddenBy: 'mod' }],
        ]),
      ])
      threads.set(
        'odd',
        new Y.Map<unknown>([
          ['id', 'odd'],
          ['createdBy', 'ana'],
          ['resolved', 'yes'],
          ['comments', comments],
          [
            'subscribers',
            new Y.Map<unknown>([
              ['ana', true],
              ['ben', 'maybe'],
            ]),
          ],
        ]),
      )
    })
    const threads = readThreads(doc)
    expect(threads.map((t) => t.id)).toEqual(['odd'])
    expect(threads[0]).toMatchObject({ createdAt: 0, resolved: false, readBy: {}, metadata: {}, subscribers: { ana: true } })
    expect(threads[0]!.comments).toEqual([
      {
        id: 'c1',
        authorId: 'ana',
        createdAt: 0,
        editedAt: null,
        deletedAt: null,
        parentId: null,
        moderation: null,
        body: [],
        text: '',
        mentions: [],
        reactions: [],
      },
    ])
  })

  it('read a deleted comment with an empty body whatever its Y.Text holds', () => {
    const doc = new Y.Doc()
    const comment = new Y.Map<unknown>([
      ['id', 'c1'],
      ['authorId', 'ana'],
      ['deletedAt', T0],
      ['body', new Y.Text('still here')],
    ])
    doc.getArray('holder').push([comment])
    expect(readComment(comment)).toMatchObject({ deletedAt: T0, body: [], text: '', mentions: [] })
  })

  it('list threads by createdAt then id, map keys sorted, reactions by first reaction, whatever the insertion order', () => {
    const doc = new Y.Doc()
    createThread(writer(doc, 'ana', [T0 + 10, T0 + 10], ['tb', 'x1']), 'b')
    createThread(writer(doc, 'ana', [T0 + 10, T0 + 10], ['ta', 'x2']), 'a')
    createThread(writer(doc, 'ana', [T0, T0], ['tz', 'x3']), 'z')
    for (const [user, time] of [
      ['zed', 3],
      ['amy', 1],
      ['kim', 2],
    ] as const) {
      markRead(writer(doc, user, [T0 + time]), 'ta')
      react(writer(doc, user, [T0 + 10 - time]), 'ta', 'x2', user === 'amy' ? '🎉' : '👍')
    }
    const [first, second, third] = readThreads(doc)
    expect([first!.id, second!.id, third!.id]).toEqual(['tz', 'ta', 'tb'])
    expect(Object.keys(second!.readBy)).toEqual(['amy', 'kim', 'zed'])
    expect(second!.comments[0]!.reactions).toEqual([
      { emoji: '👍', userIds: ['zed', 'kim'] },
      { emoji: '🎉', userIds: ['amy'] },
    ])
  })

  it('readFollowers keeps only "host" and "follower"', () => {
    const doc = new Y.Doc()
    followersMap(doc).set('b', 'follower')
    followersMap(doc).set('a', 'host')
    ;(followersMap(doc) as Y.Map<unknown>).set('c', 'admin')
    expect(readFollowers(doc)).toEqual({ a: 'host', b: 'follower' })
    expect(Object.keys(readFollowers(doc))).toEqual(['a', 'b'])
  })
})
