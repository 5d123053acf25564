/**
 * Feeds are read-only for every client (contract v1: "the server writes them"), on both backends.
 * A reader sends a forged item over the wire to its own feed and to a subject feed, while nothing
 * else writes them: the server answers each with a refusal, and the served document, storage and
 * another reader never change. (live.test.ts also writes a real item, whose projection removes
 * foreign entries: there an accepted forgery is seen only if the reader gets it first.) The feed
 * then still receives the server's own items.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread, FEED_ITEMS, FeedItemField, readFeed } from '../../protocol/index.ts'
import { BACKENDS } from '../access/backends.ts'
import { waitFor } from '../helpers/wait.ts'
import { wireClient, type WireClient } from '../helpers/wire.ts'
import { registerSubject } from '../notifications/setup.ts'
import { feedItems, startFeedWorld, type FeedWorld } from './setup.ts'

/** An update that adds a well-formed item (readFeed would show it) to a feed document. */
function forgedItem(): Uint8Array {
  const doc = new Y.Doc()
  const at = Date.now()
  const fields: Record<string, unknown> = {
    [FeedItemField.id]: 'forged',
    [FeedItemField.type]: 'thread',
    [FeedItemField.actorIds]: ['ana'],
    [FeedItemField.subjectId]: 's1',
    [FeedItemField.summary]: 'ANA started a thread on s1',
    [FeedItemField.count]: 1,
    [FeedItemField.createdAt]: at,
    [FeedItemField.updatedAt]: at,
  }
  doc.getArray(FEED_ITEMS).push([new Y.Map<unknown>(Object.entries(fields))])
  return Y.encodeStateAsUpdate(doc)
}

for (const backend of BACKENDS) {
  describe(`feeds refuse client writes: ${backend.name}`, () => {
    let world: FeedWorld
    const wires: WireClient[] = []
    beforeEach(async () => {
      world = await startFeedWorld({}, backend)
      await registerSubject(world.s, 's1')
    })
    afterEach(async () => {
      for (const wire of wires.splice(0)) wire.close()
      await world.dispose()
    })

    it('a forged item sent to a personal and a subject feed is refused; no document, store or reader changes', async () => {
      const reader = await world.feed('subject:s1', 'cid')
      let readerUpdates = 0
      reader.doc.on('update', () => readerUpdates++)
      const url = world.s.server.webSocketUrl
      const own = await wireClient(url, 'feed/user:ben', await world.s.token('ben', { access: {} }))
      const subject = await wireClient(url, 'feed/subject:s1', await world.s.token('ben', { access: {} }))
      wires.push(own, subject)
      const served = (name: string) => {
        const doc = world.s.server.hocuspocus.documents.get(name)
        if (!doc) throw new Error(`${name} is not loaded`)
        return doc
      }
      const serverUpdates: string[] = []
      for (const name of ['feed/user:ben', 'feed/subject:s1']) served(name).on('update', () => serverUpdates.push(name))

      for (const wire of [own, subject]) wire.sendUpdate(forgedItem())
      await waitFor(() => own.refusals > 0 && subject.refusals > 0, 'both writes refused')
      expect([own.acknowledged, subject.acknowledged]).toEqual([0, 0])
      expect(serverUpdates).toEqual([])
      for (const name of ['feed/user:ben', 'feed/subject:s1']) expect(served(name).getArray(FEED_ITEMS).length, name).toBe(0)
      expect(readerUpdates).toBe(0)
      expect(await world.stored('user:ben')).toEqual([])
      expect(await world.stored('subject:s1')).toEqual([])

      // The server's own writes still reach the feed.
      const ana = await world.open('s1', 'ana')
      createThread({ doc: ana.doc, userId: 'ana' }, 'real')
      const [item] = await feedItems(reader, 1, 'the real thread in the subject feed')
      expect(item).toMatchObject({ type: 'thread', actorIds: ['ana'] })
      expect(readFeed(served('feed/subject:s1')).map((i) => i.id)).toEqual([item!.id])
    })
  })
}
