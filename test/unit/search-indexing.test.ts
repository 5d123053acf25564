/** core/search/indexing.ts: what a comment indexes as, read from a real Yjs document. */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread, reply } from '../../protocol/index.ts'
import { decideComment, entriesOf } from '../../core/search/indexing.ts'
import type { SearchEntry } from '../../core/storage/search-types.ts'
import { flushChunks, SEARCH_FLUSH_CHUNK_CHARS } from '../../extensions/search/index.ts'

function commentMaps(doc: Y.Doc, threadId: string): { thread: Y.Map<unknown>; comments: Array<Y.Map<unknown>> } {
  const thread = doc.getMap('threads').get(threadId) as Y.Map<unknown>
  return { thread, comments: (thread.get('comments') as Y.Array<Y.Map<unknown>>).toArray() }
}

describe('decideComment and entriesOf', () => {
  it('indexes live comments with their shown text, removes deleted, hidden and empty ones', () => {
    const doc = new Y.Doc()
    const ctx = { doc, userId: 'ana' }
    const { threadId, commentId } = createThread(ctx, [{ text: 'hello ' }, { text: '@Ben', mention: 'ben' }])
    const deleted = reply(ctx, threadId, 'to delete').commentId
    const hidden = reply(ctx, threadId, 'to hide').commentId
    const empty = reply(ctx, threadId, ' !? ').commentId
    const { thread, comments } = commentMaps(doc, threadId)
    doc.transact(() => {
      comments[1]?.set('deletedAt', Date.now())
      comments[2]?.set('moderation', { hiddenBy: 'mod', reason: 'spam', at: Date.now() })
    })
    const decisions = comments.map((comment) => decideComment('s1', thread, comment))
    expect(decisions[0]).toEqual({
      kind: 'put',
      entry: { subjectId: 's1', threadId, commentId, authorId: 'ana', createdAt: expect.any(Number), text: 'hello @Ben', tokens: ['hello', 'ben'] },
    })
    expect(decisions.slice(1)).toEqual([
      { kind: 'remove', commentId: deleted },
      { kind: 'remove', commentId: hidden },
      { kind: 'remove', commentId: empty },
    ])
    expect(entriesOf('s1', doc).map((entry) => entry.commentId)).toEqual([commentId])
  })

  it('ignores a comment without an id (foreign data)', () => {
    const doc = new Y.Doc()
    const { threadId } = createThread({ doc, userId: 'ana' }, 'x')
    const { thread, comments } = commentMaps(doc, threadId)
    comments[0]?.delete('id')
    expect(decideComment('s1', thread, comments[0] as Y.Map<unknown>)).toBeNull()
  })
})

describe('flushChunks: a flush is written in calls of bounded text', () => {
  const entry = (commentId: string, chars: number): SearchEntry => ({
    subjectId: 's1',
    threadId: 't1',
    commentId,
    authorId: 'ana',
    createdAt: 0,
    text: 'x'.repeat(chars),
    tokens: ['x'],
  })

  it('keeps every entry once, in order, removals in the first call', () => {
    const put = Array.from({ length: 40 }, (_, i) => entry(`c${i}`, 100 + ((i * 37) % 900)))
    const remove = [{ subjectId: 's1', commentId: 'gone' }]
    const chunks = flushChunks(put, remove, 2_000)
    expect(chunks.flatMap((c) => c.put.map((e) => e.commentId))).toEqual(put.map((e) => e.commentId))
    expect(chunks[0]!.remove).toEqual(remove)
    expect(chunks.slice(1).every((c) => c.remove.length === 0)).toBe(true)
    for (const chunk of chunks) {
      const chars = chunk.put.reduce((sum, e) => sum + e.text.length, 0)
      // Over the bound only when one entry alone is larger.
      expect(chars <= 2_000 || chunk.put.length === 1).toBe(true)
    }
    expect(chunks.length).toBeGreaterThan(5)
  })

  it(`cuts a burst of long comments into calls of one comment each at the default (${SEARCH_FLUSH_CHUNK_CHARS} characters)`, () => {
    const put = Array.from({ length: 50 }, (_, i) => entry(`c${i}`, 7_000))
    expect(flushChunks(put, []).map((c) => c.put.length)).toEqual(Array.from({ length: 50 }, () => 1))
    expect(flushChunks([], [{ subjectId: 's1', commentId: 'a' }])).toEqual([{ put: [], remove: [{ subjectId: 's1', commentId: 'a' }] }])
  })
})
