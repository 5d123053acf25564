/** core/feeds/document.ts and activities.ts: the feed document projection, and activities read from transactions. */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread, deleteComment, FEED_ITEMS, react, readFeed, reply, setFollowing, type FeedItem } from '../../protocol/index.ts'
import { activitiesOf, type ReadActivity } from '../../core/feeds/activities.ts'
import { hasDuplicateItems, projectFeed } from '../../core/feeds/document.ts'
import { readTransaction } from '../../core/mentions/diff.ts'
import { T0 } from './feeds-activity.ts'

function item(id: string, updatedAt: number, extra: Partial<FeedItem> = {}): FeedItem {
  return {
    id,
    type: 'comment',
    actorIds: ['ana'],
    subjectId: 's1',
    threadId: 't',
    commentId: id,
    summary: id,
    count: 1,
    createdAt: updatedAt,
    updatedAt,
    ...extra,
  }
}

describe('feed document projection', () => {
  it('two instances projecting at once leave an item twice; the next projection leaves each once', () => {
    const one = new Y.Doc()
    const two = new Y.Doc()
    const latest = [item('b', T0 + 1), item('a', T0)]
    one.transact(() => projectFeed(one, latest))
    two.transact(() => projectFeed(two, latest))
    Y.applyUpdate(one, Y.encodeStateAsUpdate(two))
    Y.applyUpdate(two, Y.encodeStateAsUpdate(one))
    expect(hasDuplicateItems(one)).toBe(true)
    one.transact(() => projectFeed(one, latest))
    Y.applyUpdate(two, Y.encodeStateAsUpdate(one))
    for (const doc of [one, two]) {
      expect(hasDuplicateItems(doc)).toBe(false)
      expect(readFeed(doc).map((i) => i.id)).toEqual(['a', 'b'])
    }
  })

  it('holds exactly the given items, newest last; a replay changes nothing', () => {
    const doc = new Y.Doc()
    const latest = [item('c', T0 + 2), item('b', T0 + 1), item('a', T0)]
    doc.transact(() => projectFeed(doc, latest))
    expect(readFeed(doc).map((i) => i.id)).toEqual(['a', 'b', 'c'])
    let updates = 0
    doc.on('update', () => updates++)
    expect(projectFeed(doc, latest)).toBe(0)
    expect(updates).toBe(0)
  })

  it('moves a folded item to the end, updates its fields, and drops items past the bound', () => {
    const doc = new Y.Doc()
    projectFeed(doc, [item('c', T0 + 2), item('b', T0 + 1), item('a', T0)])
    const folded = item('a', T0 + 3, { count: 2, actorIds: ['ben', 'ana'] })
    projectFeed(doc, [folded, item('c', T0 + 2)])
    expect(readFeed(doc)).toEqual([item('c', T0 + 2), folded])
    projectFeed(
      doc,
      [item('c', T0 + 2, { summary: 'changed' }), folded].sort((x, y) => y.updatedAt - x.updatedAt),
    )
    expect(readFeed(doc)[0]?.summary).toBe('changed')
    doc.getArray(FEED_ITEMS).push(['not an item'])
    projectFeed(doc, [folded])
    expect(readFeed(doc).map((i) => i.id)).toEqual(['a'])
    expect(doc.getArray(FEED_ITEMS).length).toBe(1)
  })
})

describe('feed activities of a transaction', () => {
  function capture(doc: Y.Doc, write: () => void): ReadActivity[] {
    let read: ReadActivity[] = []
    const listener = (tr: Y.Transaction) => (read = activitiesOf(doc, 's1', readTransaction(tr), T0))
    doc.on('afterTransaction', listener)
    write()
    doc.off('afterTransaction', listener)
    return read
  }

  it('a thread, a comment, a reaction and a deletion, to the right feeds, never the actor’s own', () => {
    const doc = new Y.Doc()
    setFollowing({ doc, userId: 'ben' }, true)
    setFollowing({ doc, userId: 'ana' }, true)
    let thread = { threadId: '', commentId: '' }
    const [started] = capture(doc, () => (thread = createThread({ doc, userId: 'ana' }, 'hi')))
    expect(started?.activity).toMatchObject({ type: 'thread', priority: 'high', actorIds: ['ana'], feeds: ['subject:s1', 'user:ben'], checkReaders: true })
    expect(started?.commenter).toBe('ana')
    let second = ''
    const [comment] = capture(doc, () => (second = reply({ doc, userId: 'ben' }, thread.threadId, 'yo').commentId))
    expect(comment?.activity).toMatchObject({ id: `comment:s1:${second}`, type: 'comment', priority: 'medium', feeds: ['subject:s1', 'user:ana'] })
    const [reaction] = capture(doc, () => react({ doc, userId: 'ben' }, thread.threadId, thread.commentId, '👍'))
    expect(reaction?.activity).toMatchObject({ type: 'reaction', priority: 'low', actorIds: ['ben'], feeds: ['subject:s1', 'user:ana'] })
    const [own] = capture(doc, () => react({ doc, userId: 'ana' }, thread.threadId, thread.commentId, '🎉'))
    expect(own?.activity.feeds).toEqual(['subject:s1'])
    const [deleted] = capture(doc, () => deleteComment({ doc, userId: 'ben' }, thread.threadId, second))
    expect(deleted?.activity).toMatchObject({ kind: 'retract', id: `delete:s1:${second}`, commentId: second, feeds: [] })
  })
})
