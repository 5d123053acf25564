/**
 * Contract additions, "SDK": `client.inbox()` on the client's socket: live notifications, unread
 * and unseen counts with change events, markRead / markAllRead / markSeen / archive. Two devices
 * of one user agree; a mark made offline syncs when the device is back, and REST agrees.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { InboxCounts, ParleyClient } from '../../client/index.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { openSynced, sdkClient, waitAcknowledged } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

describe('the SDK inbox', () => {
  let s: TestServer
  const clients: ParleyClient[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close()
    await s.dispose()
  })

  it('shows notifications live on two devices; marks on one reach the other, offline ones on reconnect', async () => {
    s = await startServer({ apiKey: TEST_API_KEY })
    for (const userId of ['ana', 'ben']) {
      expect((await rest(s, 'PUT', `/api/v1/subjects/post-1/members/${userId}`, { bearer: TEST_API_KEY, json: { role: 'comment' } })).status).toBe(200)
    }
    const ana = await sdkClient(s, 'ana')
    const phone = await sdkClient(s, 'ben')
    const laptop = await sdkClient(s, 'ben')
    clients.push(ana, phone, laptop)
    const onPhone = phone.inbox()
    const onLaptop = laptop.inbox()
    expect(phone.inbox()).toBe(onPhone)
    await Promise.all([onPhone.whenSynced(), onLaptop.whenSynced()])
    const counted: InboxCounts[] = []
    onLaptop.on('counts', (counts) => counted.push(counts))

    const post = await openSynced(ana, 'post-1')
    post.createThread([{ text: '@Ben', mention: 'ben' }, { text: ' one' }])
    post.createThread([{ text: '@Ben', mention: 'ben' }, { text: ' two' }])
    await waitFor(() => onPhone.notifications().length === 2 && onLaptop.notifications().length === 2, 'both devices see both')
    expect(onLaptop.counts()).toEqual({ unread: 2, unseen: 2 })
    await waitFor(() => counted.at(-1)?.unread === 2, 'a counts event')

    // Seen on the phone: the laptop's badge clears; read one on the phone: one unread left everywhere.
    onPhone.markSeen()
    onPhone.markRead(onPhone.notifications()[0]!.id)
    await waitFor(() => onLaptop.unseenCount === 0 && onLaptop.unreadCount === 1, 'the laptop follows the phone')
    // The counts event comes once per tick, after the change.
    await waitFor(() => counted.at(-1)?.unread === 1 && counted.at(-1)?.unseen === 0, 'a counts event with the new counts')
    const overRest = async () =>
      (await rest<{ count: number; unseen: number }>(s, 'GET', '/api/v1/notifications/unread-count', { bearer: await s.token('ben') })).body
    await waitFor(async () => (await overRest()).count === 1, 'REST agrees')
    expect(await overRest()).toEqual({ count: 1, unseen: 0 })

    // The laptop goes offline, reads everything and archives one; back online, all agree.
    laptop.disconnect()
    await waitFor(() => laptop.status === 'offline', 'the laptop offline')
    onLaptop.markAllRead()
    const archivedId = onLaptop.notifications()[1]!.id
    onLaptop.archive(archivedId)
    expect(onLaptop.unreadCount).toBe(0)
    expect(onLaptop.notifications().map((n) => n.id)).not.toContain(archivedId)
    expect(onLaptop.notifications({ archived: true }).map((n) => n.id)).toEqual([archivedId])
    expect(onPhone.unreadCount).toBe(1)
    laptop.connect()
    await waitFor(() => onLaptop.sending === 0 && laptop.status === 'connected', 'the laptop’s marks acknowledged')
    await waitFor(() => onPhone.unreadCount === 0 && onPhone.notifications({ archived: true }).length === 1, 'the phone follows')
    await waitFor(async () => (await overRest()).count === 0, 'REST sees the offline marks')
    await waitAcknowledged(post)
  })
})
