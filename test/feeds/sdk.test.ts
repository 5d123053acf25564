/**
 * Contract additions, "SDK": `client.feed(feedId)` on the client's socket: live items (newest
 * first, change events), `loadMore()` through older items over REST, and readable offline from
 * the local store.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import type { FeedItem } from '../../protocol/index.ts'
import { createThread, setFollowing } from '../../protocol/index.ts'
import { createParleyClient, type ParleyClient } from '../../client/index.ts'
import { FileStore } from '../../client/stores/file.ts'
import { acknowledged } from '../helpers/provider.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { sdkClient, TEST_RECONNECT } from '../helpers/sdk.ts'
import { tempDir } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject } from '../notifications/setup.ts'
import { startFeedWorld, type FeedWorld } from './setup.ts'

describe('the SDK feed', () => {
  let world: FeedWorld
  const clients: ParleyClient[] = []
  const dirs: string[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close()
    await world.dispose()
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('shows live items, loads older ones over REST, and reads offline from the store', async () => {
    world = await startFeedWorld({ feedLimit: 2 })
    await registerSubject(world.s, 's1')
    for (let i = 0; i < 5; i++) {
      const answer = await rest(world.s, 'POST', '/api/v1/feeds/user:ben/items', {
        bearer: TEST_API_KEY,
        json: { id: `i${i}`, type: 'note', actorIds: ['bot'], summary: `note ${i}`, priority: 'high' },
      })
      expect(answer.status).toBe(201)
    }
    await world.stored('user:ben')
    const storeDir = tempDir('parley-feed-store-')
    dirs.push(storeDir)
    const ben = await sdkClient(world.s, 'ben', { store: new FileStore(storeDir) })
    clients.push(ben)
    const feed = ben.feed('user:ben')
    expect(ben.feed('user:ben')).toBe(feed)
    await feed.whenSynced()
    await waitFor(() => feed.items().length === 2, 'the document’s latest two items')
    expect(feed.items().map((i) => i.id)).toEqual(['i4', 'i3'])

    const seen: FeedItem[][] = []
    feed.on('change', (items) => seen.push(items))
    const client = await world.open('s1', 'ben')
    setFollowing({ doc: client.doc, userId: 'ben' }, true)
    await acknowledged(client)
    const ana = await world.open('s1', 'ana')
    createThread({ doc: ana.doc, userId: 'ana' }, 'live')
    await waitFor(() => seen.at(-1)?.[0]?.type === 'thread', 'the thread arrives live (a change event), newest first')
    expect(feed.items()[0]).toMatchObject({ type: 'thread', actorIds: ['ana'], summary: 'ANA started a thread on s1' })

    let added = 0
    while (feed.hasMore) added += await feed.loadMore(2)
    expect(added).toBe(4)
    expect(feed.items().map((i) => i.id)).toEqual([feed.items()[0]!.id, 'i4', 'i3', 'i2', 'i1', 'i0'])
    await ben.close()
    clients.splice(0)

    // Offline: a new client over the same store, against a server that is gone.
    const url = world.s.server.webSocketUrl
    await world.s.stop()
    const offline = await createParleyClient({ url, token: await world.s.token('ben'), store: new FileStore(storeDir), reconnect: TEST_RECONNECT })
    clients.push(offline)
    const cached = offline.feed('user:ben')
    await waitFor(() => cached.items().length === 2, 'the feed read from the local store while offline')
    expect(cached.items()[0]?.type).toBe('thread')
  })
})
