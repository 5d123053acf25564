/**
 * Issue 15, expiry, on both backends: notifications older than `PARLEY_NOTIFICATION_MAX_AGE_DAYS`
 * (by their latest activity) leave storage, their outbox rows and the inbox document; newer ones
 * stay; an expired notification is not recorded again. The clock is injected through `now`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createThread, readInbox } from '../../protocol/index.ts'
import { BACKENDS } from '../access/backends.ts'
import { connectSynced } from '../helpers/provider.ts'
import { rest } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, waitForNotifications, type World } from './setup.ts'

const DAY_MS = 86_400_000

describe.each(BACKENDS)('notification expiry ($name)', (backend) => {
  let world: World
  afterEach(async () => {
    await world.dispose()
  })

  it('removes what is older than the maximum age from storage, the outbox and the inbox document', async () => {
    world = await startWorld({ notificationMaxAgeDays: 30 }, backend)
    await registerSubject(world.s, 'post-1')
    const ben = await world.s.token('ben')
    const inbox = await connectSynced(world.s.server.webSocketUrl, 'inbox/ben', ben)
    world.clients.push(inbox)
    const ana = await world.open('post-1', 'ana')
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text: '@Ben', mention: 'ben' }, { text: ' old' }])
    const [old] = await waitForNotifications(world, 'ben', 1)
    await waitFor(() => Date.now() > old!.notifiedAt + 5, 'the clock moves on')
    createThread({ doc: ana.doc, userId: 'ana' }, [{ text: '@Ben', mention: 'ben' }, { text: ' new' }])
    await waitForNotifications(world, 'ben', 2)
    await waitFor(() => readInbox(inbox.doc).length === 2, 'both in the document')
    const { storage } = world.s.server
    await waitFor(async () => (await storage.notifications.outboxOf('ben', old!.id)).every((row) => row.status === 'delivered'), 'projected')

    // Nothing is 30 days old yet.
    expect(await world.s.server.expireNotifications()).toBe(0)
    // 30 days after the first one's activity, and before the second's: only the first goes.
    const removed = await world.s.server.expireNotifications(old!.notifiedAt + 1 + 30 * DAY_MS)
    expect(removed).toBe(1)
    expect((await world.notifications('ben')).map((n) => n.preview)).toEqual(['@Ben new'])
    expect(await storage.notifications.outboxOf('ben', old!.id)).toEqual([])
    await waitFor(() => readInbox(inbox.doc).length === 1, 'the document drops it')
    expect(readInbox(inbox.doc)[0]?.preview).toBe('@Ben new')
    const count = await rest<{ count: number }>(world.s, 'GET', '/api/v1/notifications/unread-count', { bearer: ben })
    expect(count.body.count).toBe(1)

    // The mention stays handled: a rescan of the document does not record it again.
    const handled = await storage.notifications.handled('post-1')
    expect([...handled.mentions.values()].filter((users) => users.has('ben'))).toHaveLength(2)
  })
})
