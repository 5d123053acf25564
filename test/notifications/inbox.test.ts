/**
 * The in-app inbox: a client with only a token and `@hocuspocus/provider` sees `inbox/<userId>`
 * fill in real time; REST and the document agree on unread counts after marks on either side;
 * the document holds only the latest notifications.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type * as Y from 'yjs'
import { createThread, INBOX_NOTIFICATIONS, isUnreadNotification, readInbox, reply } from '../../protocol/index.ts'
import { BACKENDS } from '../access/backends.ts'
import { connectSynced } from '../helpers/provider.ts'
import { rest } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, waitForNotifications, type World } from './setup.ts'

function unreadInDocument(doc: Y.Doc): number {
  return readInbox(doc).filter(isUnreadNotification).length
}

async function unreadOverRest(world: World, userId: string): Promise<number> {
  const answer = await rest<{ count: number }>(world.s, 'GET', '/api/v1/notifications/unread-count', { bearer: await world.s.token(userId) })
  return answer.body.count
}

describe.each(BACKENDS)('inbox ($name)', (backend) => {
  let world: World
  afterEach(async () => {
    await world.dispose()
  })

  it('fills in real time for a bare provider; marks in the document and over REST show in both', async () => {
    world = await startWorld({}, backend)
    await registerSubject(world.s, 'post-1')
    const inbox = await connectSynced(world.s.server.webSocketUrl, 'inbox/ben', await world.s.token('ben'))
    world.clients.push(inbox)
    expect(inbox.provider.authorizedScope).toBe('read-write')
    const ana = await world.open('post-1', 'ana')
    const { threadId, commentId } = createThread({ doc: ana.doc, userId: 'ana' }, [{ text: 'look ' }, { text: '@Ben', mention: 'ben' }])
    await waitFor(() => readInbox(inbox.doc).length === 1, 'the mention in ben’s inbox document')
    const [entry] = readInbox(inbox.doc)
    const [stored] = await world.notifications('ben')
    expect(entry).toMatchObject({
      id: stored?.id,
      kind: 'mention',
      subjectId: 'post-1',
      threadId,
      commentId,
      actors: ['ana'],
      activityCount: 1,
      preview: 'look @Ben',
      readAt: null,
    })
    expect(await unreadOverRest(world, 'ben')).toBe(1)

    // Marked read in the document: REST follows.
    const map = inbox.doc.getMap(INBOX_NOTIFICATIONS).get(entry!.id) as Y.Map<unknown>
    map.set('readAt', Date.now() + 1)
    await waitFor(async () => (await unreadOverRest(world, 'ben')) === 0, 'REST sees the mark made in the document')
    expect(unreadInDocument(inbox.doc)).toBe(0)

    // Two more; marked read over REST: the document follows.
    reply({ doc: ana.doc, userId: 'ana' }, threadId, [{ text: '@Ben', mention: 'ben' }, { text: ' again' }])
    createThread({ doc: ana.doc, userId: 'ana' }, 'and @ben once more')
    await waitFor(() => unreadInDocument(inbox.doc) === 2, 'two unread in the document')
    expect(await unreadOverRest(world, 'ben')).toBe(2)
    const first = readInbox(inbox.doc)[0]!
    const marked = await rest<{ updated: number }>(world.s, 'POST', '/api/v1/notifications/read', {
      bearer: await world.s.token('ben'),
      json: { ids: [first.id] },
    })
    expect(marked.body.updated).toBe(1)
    await waitFor(() => unreadInDocument(inbox.doc) === 1, 'the document sees the REST mark')
    const all = await rest<{ updated: number }>(world.s, 'POST', '/api/v1/notifications/read', { bearer: await world.s.token('ben'), json: { all: true } })
    expect(all.body.updated).toBe(1)
    await waitFor(() => unreadInDocument(inbox.doc) === 0, 'the document sees mark-all')
    expect(await unreadOverRest(world, 'ben')).toBe(0)
    const listed = await rest<{ notifications: Array<{ id: string; readAt: number | null }>; nextCursor: string | null }>(
      world.s,
      'GET',
      '/api/v1/notifications?limit=2',
      {
        bearer: await world.s.token('ben'),
      },
    )
    expect(listed.body.notifications.map((n) => n.id)).toEqual(
      readInbox(inbox.doc)
        .slice(0, 2)
        .map((n) => n.id),
    )
    const rest2 = await rest<{ notifications: unknown[]; nextCursor: string | null }>(
      world.s,
      'GET',
      `/api/v1/notifications?limit=2&cursor=${listed.body.nextCursor}`,
      {
        bearer: await world.s.token('ben'),
      },
    )
    expect(rest2.body.notifications).toHaveLength(1)
    // Outbox status per channel.
    expect(await world.s.server.storage.notifications.outboxOf('ben', first.id)).toMatchObject([{ channel: 'inbox', status: 'delivered' }])
  })

  it('writes nothing to an inbox no client has open, even while it stays loaded; a client opening it then sees every notification', async () => {
    world = await startWorld({}, backend)
    await registerSubject(world.s, 'post-1')
    const hocuspocus = world.s.server.hocuspocus
    const ana = await world.open('post-1', 'ana')
    const first = await connectSynced(world.s.server.webSocketUrl, 'inbox/ben', await world.s.token('ben'))
    createThread({ doc: ana.doc, userId: 'ana' }, '@ben one')
    await waitFor(() => readInbox(first.doc).length === 1, 'the first mention in the open inbox')
    first.destroy()
    // Something else of the server's (a REST read, say) keeps the document loaded with no client on it.
    const held = await hocuspocus.openDirectConnection('inbox/ben', {})
    await waitFor(() => hocuspocus.documents.get('inbox/ben')?.connections.size === 0, 'ben’s socket gone from the inbox')
    createThread({ doc: ana.doc, userId: 'ana' }, '@ben two')
    createThread({ doc: ana.doc, userId: 'ana' }, '@ben three')
    await waitForNotifications(world, 'ben', 3)
    await waitFor(
      async () =>
        (await world.s.server.storage.notifications.outboxOf('ben', (await world.notifications('ben'))[0]!.id)).every((row) => row.status === 'delivered'),
      'the newest notification handled by the inbox channel',
    )
    expect(readInbox(held.document!).length, 'the loaded document was not written').toBe(1)
    const again = await connectSynced(world.s.server.webSocketUrl, 'inbox/ben', await world.s.token('ben'))
    world.clients.push(again)
    await waitFor(() => readInbox(again.doc).length === 3, 'all three once ben opens the inbox again')
    await held.disconnect()
  })

  it('keeps only the latest notifications in the document; REST pages through all', async () => {
    world = await startWorld({ inbox: { limit: 3 } }, backend)
    await registerSubject(world.s, 'post-1')
    const inbox = await connectSynced(world.s.server.webSocketUrl, 'inbox/ben', await world.s.token('ben'))
    world.clients.push(inbox)
    const ana = await world.open('post-1', 'ana')
    for (let i = 0; i < 7; i++) createThread({ doc: ana.doc, userId: 'ana' }, `@ben number ${i}`)
    await waitForNotifications(world, 'ben', 7)
    const latest = (await world.notifications('ben')).slice(0, 3).map((n) => n.id)
    const ids = () => readInbox(inbox.doc).map((n) => n.id)
    await waitFor(() => JSON.stringify(ids()) === JSON.stringify(latest), 'the latest three in the document')
    expect(inbox.doc.getMap(INBOX_NOTIFICATIONS).size).toBe(3)
    expect(await unreadOverRest(world, 'ben')).toBe(7)
  })
})
