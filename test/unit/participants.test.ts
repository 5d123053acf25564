/**
 * A thread's participants are kept from its comments array's changes (core/mentions/participants.ts)
 * instead of a walk per new comment: after any sequence of appends, concurrent replies merged from
 * other replicas (which land before earlier ones) and removals, they equal a fresh walk. Seeded: the
 * PRNG picks the operations and the order replicas exchange updates, so a seed replays exactly.
 */
import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CommentField, createThread, reply, threadsMap, ThreadField } from '../../protocol/index.ts'
import { participants } from '../../core/mentions/participants.ts'

/** The definition: creator first, then every comment author in array order, each once. */
function walked(thread: Y.Map<unknown>): string[] {
  const users = new Set<string>()
  const creator = thread.get(ThreadField.createdBy)
  if (typeof creator === 'string' && creator !== '') users.add(creator)
  const comments = thread.get(ThreadField.comments)
  if (comments instanceof Y.Array) {
    for (const comment of comments) {
      const author = comment instanceof Y.Map ? comment.get(CommentField.authorId) : null
      if (typeof author === 'string') users.add(author)
    }
  }
  return [...users]
}

const threadOf = (doc: Y.Doc, threadId: string) => threadsMap(doc).get(threadId) as Y.Map<unknown>
const commentsOf = (doc: Y.Doc, threadId: string) => threadOf(doc, threadId).get(ThreadField.comments) as Y.Array<unknown>

describe('PROTOCOL §Mentions and notifications: thread participants', () => {
  it('adds the author of each appended reply once, creator first', () => {
    const doc = new Y.Doc()
    const { threadId } = createThread({ doc, userId: 'ana' }, 'hi')
    expect(participants(threadOf(doc, threadId))).toEqual(['ana'])
    reply({ doc, userId: 'ben' }, threadId, 'one')
    reply({ doc, userId: 'ana' }, threadId, 'two')
    reply({ doc, userId: 'cy' }, threadId, 'three')
    expect(participants(threadOf(doc, threadId))).toEqual(['ana', 'ben', 'cy'])
  })

  it('reads the list from afterTransaction, where the detector reads it, with the new reply in', () => {
    const doc = new Y.Doc()
    const { threadId } = createThread({ doc, userId: 'ana' }, 'hi')
    participants(threadOf(doc, threadId))
    const seen: string[][] = []
    doc.on('afterTransaction', () => seen.push(participants(threadOf(doc, threadId))))
    reply({ doc, userId: 'dee' }, threadId, 'late')
    expect(seen).toEqual([['ana', 'dee']])
  })

  it('walks again after a removal (the author gone from the thread is gone from the list)', () => {
    const doc = new Y.Doc()
    const { threadId } = createThread({ doc, userId: 'ana' }, 'hi')
    reply({ doc, userId: 'ben' }, threadId, 'one')
    expect(participants(threadOf(doc, threadId))).toEqual(['ana', 'ben'])
    commentsOf(doc, threadId).delete(1, 1)
    expect(participants(threadOf(doc, threadId))).toEqual(['ana'])
  })

  it('puts the creator first even when another user wrote the first comment', () => {
    const doc = new Y.Doc()
    const { threadId } = createThread({ doc, userId: 'ana' }, 'hi')
    threadOf(doc, threadId).set(ThreadField.createdBy, 'zed')
    expect(participants(threadOf(doc, threadId))).toEqual(['zed', 'ana'])
  })

  const SEEDS = 25
  it.each(Array.from({ length: SEEDS }, (_, i) => i + 1))('seed %i: equals a fresh walk after random appends, merges and removals', (seed) => {
    const gen = prng.create(seed)
    const server = new Y.Doc()
    const { threadId } = createThread({ doc: server, userId: 'u0' }, 'first')
    const replicas = [0, 1, 2].map(() => {
      const doc = new Y.Doc()
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(server))
      return { doc, outbox: [] as Uint8Array[] }
    })
    for (const replica of replicas) replica.doc.on('update', (update: Uint8Array) => replica.outbox.push(update))
    for (let step = 0; step < 60; step++) {
      const op = prng.uint32(gen, 0, 9)
      const user = `u${prng.uint32(gen, 0, 5)}`
      if (op <= 4) {
        reply({ doc: server, userId: user }, threadId, 'here')
      } else if (op <= 7) {
        const replica = replicas[prng.uint32(gen, 0, replicas.length - 1)]!
        reply({ doc: replica.doc, userId: user }, threadId, 'there')
      } else if (op === 8) {
        const comments = commentsOf(server, threadId)
        if (comments.length > 1) comments.delete(prng.uint32(gen, 1, comments.length - 1), 1)
      } else {
        // A replica delivers what it wrote since it last synced (concurrent replies merge in).
        const replica = replicas[prng.uint32(gen, 0, replicas.length - 1)]!
        for (const update of replica.outbox.splice(0)) Y.applyUpdate(server, update)
        Y.applyUpdate(replica.doc, Y.encodeStateAsUpdate(server, Y.encodeStateVector(replica.doc)))
        replica.outbox.length = 0
      }
      expect(participants(threadOf(server, threadId))).toEqual(walked(threadOf(server, threadId)))
    }
  })
})
