/**
 * The guard's schema-integrity rules for comments, in process: `checkUpdate` on a server Y.Doc
 * with updates built by replicas (honest writers and forged ones). Honest writes of
 * protocol/comments/write.ts pass; each refusal names the field. Times, metadata and inbox marks
 * are in schema-values.unit.test.ts.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { commentIdsOf } from '../../core/guard/comment-ids.ts'
import { EARLIEST_TIME_MS, MAX_CLOCK_SKEW_MS, createThread, markRead, react, reply, setResolved, threadsMap } from '../../protocol/index.ts'
import { MINUTE, Server, comment, commentsOf, newThreadMap, ok, refused, sequence, withThread } from './schema-harness.ts'

describe('honest writes of the schema module', () => {
  it('pass: a thread with metadata, replies with parentId, reactions, read markers, resolving', () => {
    const server = withThread()
    ok(server.attempt('ana', (doc) => react({ doc, userId: 'ana' }, 't1', 'b1', '👍')))
    ok(server.attempt('ben', (doc) => markRead({ doc, userId: 'ben' }, 't1')))
    ok(server.attempt('ben', (doc) => setResolved({ doc, userId: 'ben' }, 't1', true)))
    ok(server.attempt('ana', (doc) => reply({ doc, userId: 'ana' }, 't1', 'reply to the reply', 'b1')))
    expect(commentsOf(server.doc).length).toBe(3)
  })

  it('pass with offline times in the past and with a clock running a few minutes fast', () => {
    const server = withThread()
    ok(server.attempt('ana', (doc) => reply({ doc, userId: 'ana', now: () => Date.UTC(2021, 5, 1) }, 't1', 'written offline long ago')))
    ok(server.attempt('ana', (doc) => reply({ doc, userId: 'ana', now: () => Date.now() + MAX_CLOCK_SKEW_MS - MINUTE }, 't1', 'fast clock')))
    ok(server.attempt('ana', (doc) => reply({ doc, userId: 'ana', now: () => EARLIEST_TIME_MS }, 't1', 'the earliest time')))
  })

  it('pass: a thread and replies to it created offline in one update', () => {
    const server = withThread()
    ok(
      server.attempt('ana', (doc) => {
        const { threadId, commentId } = createThread({ doc, userId: 'ana' }, 'offline thread')
        const { commentId: second } = reply({ doc, userId: 'ana' }, threadId, 'offline reply', commentId)
        reply({ doc, userId: 'ana' }, threadId, 'offline reply to the reply', second)
      }),
    )
  })
})

describe('comment ids', () => {
  it('refuses a second comment "c1" in the same thread', () => {
    const server = withThread()
    refused(
      server.attempt('ben', (doc) => reply({ doc, userId: 'ben', newId: () => 'c1' }, 't1', 'impostor')),
      /comment id "c1" is already used/,
    )
  })

  it('refuses an id used in another thread of the document', () => {
    const server = withThread()
    refused(
      server.attempt('ben', (doc) => createThread({ doc, userId: 'ben', newId: sequence('t2', 'b1') }, 'new thread')),
      /comment id "b1" is already used/,
    )
  })

  it('refuses two new comments with the same id in one update', () => {
    const server = withThread()
    refused(
      server.attempt('ben', (doc) => {
        reply({ doc, userId: 'ben', newId: () => 'twin' }, 't1', 'one')
        reply({ doc, userId: 'ben', newId: () => 'twin' }, 't1', 'two')
      }),
      /comment id "twin" is used twice in this update/,
    )
  })

  it('keeps the index current: ids the server itself writes count, and a removed comment frees its id', () => {
    const server = withThread()
    expect(commentIdsOf(server.doc).has('b1')).toBe(true)
    // A comment written directly (a document from before the guard, or a server-side writer).
    server.direct((doc) => commentsOf(doc).push([comment('direct', 'ana')]))
    refused(
      server.attempt('ben', (doc) => reply({ doc, userId: 'ben', newId: () => 'direct' }, 't1', 'again')),
      /comment id "direct"/,
    )
    // Removed directly: the index notices, and the id may be used again.
    server.direct((doc) => commentsOf(doc).delete(commentsOf(doc).length - 1, 1))
    expect(commentIdsOf(server.doc).has('direct')).toBe(false)
    ok(server.attempt('ben', (doc) => reply({ doc, userId: 'ben', newId: () => 'direct' }, 't1', 'now it is free')))
    expect(commentIdsOf(server.doc).arrayOf('direct')).toBe(commentsOf(server.doc))
  })
})

describe('comment position', () => {
  it('refuses a comment inserted before the thread’s first comment', () => {
    const server = withThread()
    refused(
      server.attempt('ben', (doc) => commentsOf(doc).insert(0, [comment('early', 'ben')])),
      /after the thread's first comment/,
    )
  })

  it('allows a comment between the first comment and later ones', () => {
    const server = withThread()
    ok(server.attempt('ben', (doc) => commentsOf(doc).insert(1, [comment('middle', 'ben')])))
    expect(commentsOf(server.doc).get(0).get('id')).toBe('c1')
  })

  it('allows the first comment of a thread created with an empty comments array, then no comment before it', () => {
    const server = new Server()
    ok(server.attempt('ana', (doc) => threadsMap(doc).set('t9', newThreadMap('t9', 'ana', []))))
    ok(server.attempt('ana', (doc) => commentsOf(doc, 't9').push([comment('first', 'ana')])))
    refused(
      server.attempt('ana', (doc) => commentsOf(doc, 't9').insert(0, [comment('before', 'ana')])),
      /after the thread's first comment/,
    )
  })

  it('refuses two first comments in a new thread', () => {
    const server = new Server()
    refused(
      server.attempt('ana', (doc) =>
        doc.transact(() => {
          threadsMap(doc).set('t9', newThreadMap('t9', 'ana', [comment('one', 'ana')]))
          commentsOf(doc, 't9').insert(0, [comment('zero', 'ana')])
        }),
      ),
      /only one first comment/,
    )
  })
})

describe('parentId', () => {
  it('refuses a parentId that names no comment', () => {
    const server = withThread()
    refused(
      server.attempt('ben', (doc) => commentsOf(doc).push([comment('r1', 'ben', { parentId: 'nobody' })])),
      /parentId "nobody" names no comment of this thread/,
    )
  })

  it('refuses a parentId that names a comment of another thread', () => {
    const server = withThread()
    ok(server.attempt('ana', (doc) => createThread({ doc, userId: 'ana', newId: sequence('t2', 'c2') }, 'other thread')))
    refused(
      server.attempt('ben', (doc) => commentsOf(doc).push([comment('r1', 'ben', { parentId: 'c2' })])),
      /parentId "c2" names no comment of this thread/,
    )
  })

  it('accepts a parent that is new in the same update, refuses itself and cycles', () => {
    const server = withThread()
    ok(server.attempt('ben', (doc) => commentsOf(doc).push([comment('p', 'ben'), comment('q', 'ben', { parentId: 'p' })])))
    refused(
      server.attempt('ben', (doc) => commentsOf(doc).push([comment('self', 'ben', { parentId: 'self' })])),
      /cannot reply to itself/,
    )
    refused(
      server.attempt('ben', (doc) => commentsOf(doc).push([comment('x', 'ben', { parentId: 'y' }), comment('y', 'ben', { parentId: 'x' })])),
      /forms a cycle/,
    )
  })

  it('refuses a parent that is new in the same update but in another thread', () => {
    const server = withThread()
    refused(
      server.attempt('ben', (doc) =>
        doc.transact(() => {
          threadsMap(doc).set('t3', newThreadMap('t3', 'ben', [comment('n1', 'ben')]))
          commentsOf(doc).push([comment('n2', 'ben', { parentId: 'n1' })])
        }),
      ),
      /parentId "n1" names no comment of this thread/,
    )
  })
})

describe('bodies', () => {
  it('refuses a Y.XmlText body (a subclass of Y.Text)', () => {
    const server = withThread()
    refused(
      server.attempt('ben', (doc) => commentsOf(doc).push([comment('xml', 'ben', { body: new Y.XmlText('words') })])),
      /comment\.body must be exactly a YText, not a YXmlText/,
    )
  })

  it('refuses a Y.XmlHook as reactions (a subclass of Y.Map)', () => {
    const server = withThread()
    refused(
      server.attempt('ben', (doc) => commentsOf(doc).push([comment('hook', 'ben', { reactions: new Y.XmlHook('h') })])),
      /comment\.reactions must be exactly a YMap/,
    )
  })

  it('refuses writes into an Y.XmlText body already in the document (written before the guard)', () => {
    const server = withThread()
    server.direct((doc) => commentsOf(doc).push([comment('legacy', 'ben', { body: new Y.XmlText('old') })]))
    refused(
      server.attempt('ben', (doc) => (commentsOf(doc).get(2).get('body') as Y.XmlText).insert(0, 'more ')),
      /outside the document schema/,
    )
  })
})
