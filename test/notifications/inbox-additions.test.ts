/**
 * Contract additions, "Inbox additions", on both backends: `seenAt` (the badge counts unseen),
 * `unread-count` answering `{ count, unseen }`, `POST /notifications/seen` and `/archive`, the
 * archived listing, and the owner setting `seenAt` in `inbox/<user>`: REST and the document agree.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type * as Y from 'yjs'
import { createThread, INBOX_NOTIFICATIONS, isUnseenNotification, readInbox } from '../../protocol/index.ts'
import { BACKENDS } from '../access/backends.ts'
import { connectSynced } from '../helpers/provider.ts'
import { codeOf, rest } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from './setup.ts'

interface Counts {
  count: number
  unseen: number
}

describe.each(BACKENDS)('inbox additions ($name)', (backend) => {
  let world: World
  afterEach(async () => {
    await world.dispose()
  })

  it('counts unseen, marks seen and archives, over REST and in the document alike; links from PARLEY_APP_URL', async () => {
    world = await startWorld({ appUrl: 'https://app.example.com/s/{subjectId}?thread={threadId}#{commentId}' }, backend)
    await registerSubject(world.s, 'post-1')
    const ben = await world.s.token('ben')
    const counts = async () => (await rest<Counts>(world.s, 'GET', '/api/v1/notifications/unread-count', { bearer: ben })).body
    const inbox = await connectSynced(world.s.server.webSocketUrl, 'inbox/ben', ben)
    world.clients.push(inbox)
    const ana = await world.open('post-1', 'ana')
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text: '@Ben', mention: 'ben' }, { text: ' one' }])
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text: '@Ben', mention: 'ben' }, { text: ' two' }])
    await waitFor(() => readInbox(inbox.doc).length === 2, 'two notifications in the document')
    expect(await counts()).toEqual({ count: 2, unseen: 2 })
    expect(readInbox(inbox.doc).every((n) => n.seenAt === null)).toBe(true)
    const [linked] = readInbox(inbox.doc)
    expect(linked?.url).toBe(`https://app.example.com/s/post-1?thread=${linked?.threadId}#${linked?.commentId}`)
    const listed = await rest<{ notifications: Array<{ id: string; url: string }> }>(world.s, 'GET', '/api/v1/notifications', { bearer: ben })
    expect(listed.body.notifications.find((n) => n.id === linked?.id)?.url).toBe(linked?.url)

    // Seen over REST: the badge drops, unread stays, the document follows.
    const seen = await rest<{ updated: number }>(world.s, 'POST', '/api/v1/notifications/seen', { bearer: ben, json: { all: true } })
    expect(seen.body).toEqual({ updated: 2 })
    expect(await counts()).toEqual({ count: 2, unseen: 0 })
    await waitFor(() => readInbox(inbox.doc).every((n) => !isUnseenNotification(n)), 'the document sees seenAt')
    expect((await rest(world.s, 'POST', '/api/v1/notifications/seen', { bearer: ben, json: { all: true } })).body).toEqual({ updated: 0 })

    // New activity is unseen again; the owner marks it seen in the document: REST follows.
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text: '@Ben', mention: 'ben' }, { text: ' three' }])
    await waitFor(async () => (await counts()).unseen === 1, 'one unseen')
    await waitFor(() => readInbox(inbox.doc).length === 3, 'the third in the document')
    const third = readInbox(inbox.doc).find(isUnseenNotification)!
    ;(inbox.doc.getMap(INBOX_NOTIFICATIONS).get(third.id) as Y.Map<unknown>).set('seenAt', third.notifiedAt + 1)
    await waitFor(async () => (await counts()).unseen === 0, 'REST sees the seenAt set in the document')

    // Archive one: it leaves the default list and is the archived list; the document holds archivedAt.
    const archived = await rest<{ updated: number }>(world.s, 'POST', '/api/v1/notifications/archive', { bearer: ben, json: { ids: [third.id, 'unknown'] } })
    expect(archived.body).toEqual({ updated: 1 })
    // Archived ones leave the counts (the third was unread).
    expect(await counts()).toEqual({ count: 2, unseen: 0 })
    const list = async (query: string) =>
      (
        await rest<{ notifications: Array<{ id: string; archivedAt: number | null; seenAt: number | null }> }>(
          world.s,
          'GET',
          `/api/v1/notifications${query}`,
          { bearer: ben },
        )
      ).body.notifications
    expect((await list('')).map((n) => n.id)).not.toContain(third.id)
    expect(await list('')).toHaveLength(2)
    const onlyArchived = await list('?archived=true')
    expect(onlyArchived.map((n) => n.id)).toEqual([third.id])
    expect(onlyArchived[0]?.seenAt).toBe(third.notifiedAt + 1)
    await waitFor(() => readInbox(inbox.doc).find((n) => n.id === third.id)?.archivedAt !== null, 'the document sees the archive')
    expect((await rest(world.s, 'POST', '/api/v1/notifications/archive', { bearer: ben, json: { ids: [third.id] } })).body).toEqual({ updated: 0 })

    // Bad bodies are 400 invalid_request.
    for (const json of [{}, { ids: [] }, { all: true }, { ids: ['not an id'] }]) {
      const answer = await rest(world.s, 'POST', '/api/v1/notifications/archive', { bearer: ben, json })
      expect(codeOf(answer), JSON.stringify(json)).toBe('invalid_request')
    }
    expect(codeOf(await rest(world.s, 'POST', '/api/v1/notifications/seen', { bearer: ben, json: { ids: [] } }))).toBe('invalid_request')
    expect(codeOf(await rest(world.s, 'GET', '/api/v1/notifications?archived=maybe', { bearer: ben }))).toBe('invalid_request')
  })
})
