/** core/feeds/activities.ts FollowerCache: followers read once per change, one shared list per author. */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { followersMap } from '../../protocol/index.ts'
import { FollowerCache } from '../../core/feeds/activities.ts'

describe('follower cache', () => {
  it('reads the followers once until a transaction changes them, and shares one list per author', () => {
    const doc = new Y.Doc()
    const cache = new FollowerCache()
    doc.on('afterTransaction', (tr: Y.Transaction) => cache.seen(tr))
    doc.transact(() => {
      followersMap(doc).set('cy', 'follower')
      followersMap(doc).set('ana', 'host')
      followersMap(doc).set('ben', 'follower')
    })
    const list = cache.feeds(doc, 's1', 'ben')
    expect(list).toEqual(['subject:s1', 'user:ana', 'user:cy'])
    expect(cache.feeds(doc, 's1', 'ben')).toBe(list)
    doc.getMap('other').set('x', 1)
    expect(cache.feeds(doc, 's1', 'ben')).toBe(list)
    followersMap(doc).delete('cy')
    expect(cache.feeds(doc, 's1', 'ben')).toEqual(['subject:s1', 'user:ana'])
    expect(cache.of(doc)).toEqual({ ana: 'host', ben: 'follower' })
  })
})
