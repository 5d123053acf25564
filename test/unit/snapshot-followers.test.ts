/**
 * A comment's snapshot reads the subject's followers from a per-document cache
 * (core/mentions/snapshot.ts): read once while the map is unchanged, and never stale, even when
 * followers change in the same transaction as the comment the detector reads in `afterTransaction`.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread, followersMap, reply, threadsMap, ThreadField } from '../../protocol/index.ts'
import { snapshotComment } from '../../core/mentions/snapshot.ts'

function snapshotOf(doc: Y.Doc, threadId: string, index: number) {
  const thread = threadsMap(doc).get(threadId) as Y.Map<unknown>
  const comment = (thread.get(ThreadField.comments) as Y.Array<Y.Map<unknown>>).get(index)
  return snapshotComment(thread, comment, true)
}

describe('followers in comment snapshots', () => {
  it('reuses one read while the followers map is unchanged', () => {
    const doc = new Y.Doc()
    followersMap(doc).set('ana', 'host')
    const { threadId } = createThread({ doc, userId: 'ben' }, 'hi')
    reply({ doc, userId: 'cy' }, threadId, 'hello')
    const first = snapshotOf(doc, threadId, 0)?.activity?.followers
    const second = snapshotOf(doc, threadId, 1)?.activity?.followers
    expect(first).toEqual({ ana: 'host' })
    expect(second).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
  })

  it('sees a change made in the same transaction as the comment, from afterTransaction', () => {
    const doc = new Y.Doc()
    followersMap(doc).set('ana', 'host')
    const { threadId } = createThread({ doc, userId: 'ben' }, 'hi')
    expect(snapshotOf(doc, threadId, 0)?.activity?.followers).toEqual({ ana: 'host' })
    const seen: unknown[] = []
    doc.on('afterTransaction', () => seen.push(snapshotOf(doc, threadId, 1)?.activity?.followers))
    doc.transact(() => {
      followersMap(doc).set('dee', 'follower')
      followersMap(doc).delete('ana')
      reply({ doc, userId: 'cy' }, threadId, 'hello')
    })
    expect(seen).toEqual([{ dee: 'follower' }])
  })
})
