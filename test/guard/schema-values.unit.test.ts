/**
 * The guard's rules for values, in process: the time window on every time field, metadata
 * entries and keys per thread, inbox marks. Each refusal names the field.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  EARLIEST_TIME_MS,
  MAX_CLOCK_SKEW_MS,
  MAX_METADATA_ENTRIES,
  MAX_METADATA_KEY_LENGTH,
  MAX_METADATA_VALUE_BYTES,
  createThread,
  threadsMap,
} from '../../protocol/index.ts'
import { MINUTE, Server, comment, commentsOf, newThreadMap, ok, refused, thread, withThread } from './schema-harness.ts'

describe('times', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['zero', 0, /not be before 2020-01-01/],
    ['1e300', 1e300, /whole milliseconds/],
    ['a fraction', Date.now() + 0.5, /whole milliseconds/],
    ['a string', '2024-01-01', /whole milliseconds/],
    ['eleven minutes ahead', Date.now() + MAX_CLOCK_SKEW_MS + MINUTE, /ahead of the server's clock/],
    ['the day before 2020', EARLIEST_TIME_MS - 86_400_000, /not be before 2020-01-01/],
  ]

  it.each(bad)('refuses a comment createdAt of %s', (_name, value, reason) => {
    const server = withThread()
    const verdict = server.attempt('ben', (doc) => commentsOf(doc).push([comment('late', 'ben', { createdAt: value })]))
    refused(verdict, /comment createdAt/)
    refused(verdict, reason)
  })

  it.each(bad)('refuses a thread createdAt of %s', (_name, value) => {
    const server = new Server()
    refused(
      server.attempt('ana', (doc) => threadsMap(doc).set('t9', newThreadMap('t9', 'ana', [comment('k', 'ana')], { createdAt: value }))),
      /thread createdAt/,
    )
  })

  it('refuses bad editedAt, deletedAt, resolvedAt, readBy, reaction and moderation times', () => {
    const server = withThread()
    const never = 1e300
    refused(
      server.attempt('ana', (doc) => commentsOf(doc).get(0).set('editedAt', never)),
      /comment editedAt/,
    )
    refused(
      server.attempt('ana', (doc) => commentsOf(doc).get(0).set('deletedAt', 0)),
      /comment deletedAt/,
    )
    refused(
      server.attempt('ben', (doc) =>
        doc.transact(() => {
          thread(doc).set('resolved', true)
          thread(doc).set('resolvedBy', 'ben')
          thread(doc).set('resolvedAt', never)
        }),
      ),
      /thread resolvedAt/,
    )
    refused(
      server.attempt('ben', (doc) => (thread(doc).get('readBy') as Y.Map<number>).set('ben', never)),
      /readBy/,
    )
    refused(
      server.attempt('ben', (doc) => (commentsOf(doc).get(0).get('reactions') as Y.Map<number>).set('👍|ben', 5)),
      /reaction/,
    )
    refused(
      server.attempt('mod', (doc) => commentsOf(doc).get(0).set('moderation', { hiddenBy: 'mod', reason: 'spam', at: never }), 'moderate'),
      /moderation\.at/,
    )
    refused(
      server.attempt(
        'mod',
        (doc) =>
          commentsOf(doc)
            .get(0)
            .set('moderation', { hiddenBy: 'mod', reason: 'spam', at: Date.now(), extra: 'x'.repeat(1000) }),
        'moderate',
      ),
      /only hiddenBy, reason and at/,
    )
    ok(server.attempt('mod', (doc) => commentsOf(doc).get(0).set('moderation', { hiddenBy: 'mod', reason: 'spam', at: Date.now() }), 'moderate'))
  })
})

describe('metadata', () => {
  const metadataOf = (doc: Y.Doc) => thread(doc).get('metadata') as Y.Map<unknown>

  it('accepts strings, finite numbers, booleans and null', () => {
    const server = withThread()
    ok(
      server.attempt('ana', (doc) =>
        doc.transact(() => {
          metadataOf(doc).set('s', 'x')
          metadataOf(doc).set('n', 1.5)
          metadataOf(doc).set('b', false)
          metadataOf(doc).set('z', null)
        }),
      ),
    )
  })

  const notPrimitive: Array<[string, () => unknown]> = [
    ['binary', () => new Uint8Array([1, 2, 3])],
    ['a sub-document', () => new Y.Doc()],
    ['an object', () => ({ nested: true })],
    ['an array', () => [1, 2]],
    ['a nested Y.Map', () => new Y.Map()],
    ['NaN', () => Number.NaN],
  ]
  it.each(notPrimitive)('refuses %s as a value', (_name, value) => {
    const server = withThread()
    refused(
      server.attempt('ana', (doc) => metadataOf(doc).set('v', value())),
      /metadata|not allowed in metadata/,
    )
  })

  it('refuses values and keys over the REST caps with too_large', () => {
    const server = withThread()
    refused(
      server.attempt('ana', (doc) => metadataOf(doc).set('big', 'x'.repeat(MAX_METADATA_VALUE_BYTES))),
      /metadata "big" is at most 4096 bytes/,
      'too_large',
    )
    ok(server.attempt('ana', (doc) => metadataOf(doc).set('fits', 'x'.repeat(MAX_METADATA_VALUE_BYTES - 2))))
    refused(
      server.attempt('ana', (doc) => metadataOf(doc).set('k'.repeat(MAX_METADATA_KEY_LENGTH + 1), 1)),
      /metadata key is at most 64/,
      'too_large',
    )
    refused(
      server.attempt('ana', (doc) => metadataOf(doc).set('', 1)),
      /metadata key cannot be empty/,
    )
  })

  it('caps keys per thread, counting what is there, and lets an over-full map shrink or be rewritten', () => {
    const server = withThread()
    const many = (from: number, count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${from + i}`, i]))
    refused(
      server.attempt('ana', (doc) => createThread({ doc, userId: 'ana' }, 'too much', many(0, MAX_METADATA_ENTRIES + 1))),
      /at most 32 keys/,
      'too_large',
    )
    ok(
      server.attempt('ana', (doc) =>
        doc.transact(() => {
          for (const [k, v] of Object.entries(many(1, MAX_METADATA_ENTRIES - 1))) metadataOf(doc).set(k, v)
        }),
      ),
    )
    expect(metadataOf(server.doc).size).toBe(MAX_METADATA_ENTRIES)
    refused(
      server.attempt('ana', (doc) => metadataOf(doc).set('one-more', 1)),
      /at most 32 keys/,
      'too_large',
    )
    ok(server.attempt('ana', (doc) => metadataOf(doc).set('anchor', 'p4')))
    ok(
      server.attempt('ana', (doc) =>
        doc.transact(() => {
          metadataOf(doc).delete('k1')
          metadataOf(doc).set('swap', 1)
        }),
      ),
    )
    // 100 keys in one update: the metadata cap. (10,000, as in the finding, are refused by the work budget first.)
    refused(
      server.attempt('ana', (doc) =>
        doc.transact(() => {
          for (let i = 0; i < 100; i++) metadataOf(doc).set(`m${i}`, i)
        }),
      ),
      /at most 32 keys/,
      'too_large',
    )
    refused(
      server.attempt('ana', (doc) =>
        doc.transact(() => {
          for (let i = 0; i < 10_000; i++) metadataOf(doc).set(`m${i}`, i)
        }),
      ),
      /budget exceeded/,
      'too_large',
    )
    // A map over the cap from before the guard may shrink, and a key may be rewritten, but it may not grow.
    server.direct((doc) =>
      doc.transact(() => {
        for (let i = 0; i < 5; i++) metadataOf(doc).set(`legacy${i}`, i)
      }),
    )
    ok(server.attempt('ana', (doc) => metadataOf(doc).set('legacy0', 'rewritten')))
    ok(server.attempt('ana', (doc) => metadataOf(doc).delete('legacy1')))
    refused(
      server.attempt('ana', (doc) => metadataOf(doc).set('grow', 1)),
      /at most 32 keys/,
      'too_large',
    )
  })
})

describe('inbox marks', () => {
  const CREATED = Date.now() - 60 * MINUTE
  function inbox(): Server {
    const server = new Server('inbox')
    server.direct((doc) =>
      doc.getMap('notifications').set(
        'n1',
        new Y.Map<unknown>(
          Object.entries({
            id: 'n1',
            kind: 'mention',
            priority: 'high',
            subjectId: 's',
            threadId: 't',
            commentId: 'c',
            actors: ['ana'],
            activityCount: 1,
            preview: 'p',
            createdAt: CREATED,
            notifiedAt: CREATED,
            readAt: null,
            archivedAt: null,
          }),
        ),
      ),
    )
    return server
  }
  const entry = (doc: Y.Doc) => doc.getMap('notifications').get('n1') as Y.Map<unknown>

  it('refuses readAt and archivedAt outside the window or before createdAt', () => {
    const server = inbox()
    refused(
      server.attempt('ben', (doc) => entry(doc).set('readAt', 1e300)),
      /notification readAt/,
    )
    refused(
      server.attempt('ben', (doc) => entry(doc).set('readAt', Date.now() + MAX_CLOCK_SKEW_MS + MINUTE)),
      /notification readAt .*ahead/,
    )
    refused(
      server.attempt('ben', (doc) => entry(doc).set('readAt', CREATED - 1)),
      /notification readAt must not be before the notification's createdAt/,
    )
    refused(
      server.attempt('ben', (doc) => entry(doc).set('archivedAt', 0)),
      /notification archivedAt/,
    )
    refused(
      server.attempt('ben', (doc) => entry(doc).set('archivedAt', CREATED - MINUTE)),
      /archivedAt must not be before/,
    )
  })

  it('accepts marks from createdAt up to now plus the skew, and archivedAt null', () => {
    const server = inbox()
    ok(server.attempt('ben', (doc) => entry(doc).set('readAt', CREATED)))
    ok(server.attempt('ben', (doc) => entry(doc).set('readAt', Date.now())))
    ok(server.attempt('ben', (doc) => entry(doc).set('archivedAt', Date.now() + MINUTE)))
    ok(server.attempt('ben', (doc) => entry(doc).set('archivedAt', null)))
  })
})
