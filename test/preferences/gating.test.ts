/**
 * Contract additions, "Notification kinds and who hears them": a channel that is off gets nothing
 * (`inApp: false`: not recorded, so neither in `inbox/<user>` nor in the REST list or count), and
 * a user who muted the subject hears nothing from it except mentions. On both backends.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createThread, reply, threadsMap } from '../../protocol/index.ts'
import { BACKENDS } from '../access/backends.ts'
import { acknowledged } from '../helpers/provider.ts'
import { rest } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, waitForNotifications, type World } from '../notifications/setup.ts'

describe.each(BACKENDS)('preferences decide the in-app inbox ($name)', (backend) => {
  let world: World
  afterEach(async () => {
    await world.dispose()
  })

  it('a kind turned off in-app, or a muted subject, gives nothing; mentions still reach the muted', async () => {
    world = await startWorld({}, backend)
    await registerSubject(world.s, 'post-1')
    const put = async (userId: string, json: unknown) => {
      const answer = await rest(world.s, 'PUT', '/api/v1/preferences', { bearer: await world.s.token(userId), json })
      expect(answer.status).toBe(200)
    }
    await put('ana', { kinds: { reply: { inApp: false } } })
    await put('cid', { mutedSubjects: ['post-1'] })
    await put('ming', { kinds: { mention: { inApp: false } } })

    const [ana, ben, cid, dan] = await Promise.all(['ana', 'ben', 'cid', 'dan'].map((u) => world.open('post-1', u)))
    const { threadId } = createThread({ doc: ana!.doc, userId: 'ana' }, 'opening')
    await acknowledged(ana!)
    await waitFor(() => [ben, cid, dan].every((c) => c!.doc.getMap('threads').has(threadId)), 'the thread everywhere')
    reply({ doc: cid!.doc, userId: 'cid' }, threadId, 'cid takes part')
    reply({ doc: dan!.doc, userId: 'dan' }, threadId, 'dan takes part')
    await acknowledged(cid!)
    await acknowledged(dan!)
    await waitFor(() => (threadsMap(ben!.doc).get(threadId)?.get('comments') as { length: number } | undefined)?.length === 3, 'ben sees both replies')

    reply({ doc: ben!.doc, userId: 'ben' }, threadId, 'hello all')
    await acknowledged(ben!)
    // Dan has the defaults: he hears ben's reply (and cid's), which shows detection ran for everyone.
    await waitFor(async () => (await world.notifications('dan'))[0]?.actors.includes('ben') === true, 'dan hears ben’s reply')

    reply({ doc: ben!.doc, userId: 'ben' }, threadId, [
      { text: '@Ana', mention: 'ana' },
      { text: ' @Cid', mention: 'cid' },
      { text: ' @Ming', mention: 'ming' },
    ])
    await acknowledged(ben!)
    await waitForNotifications(world, 'ana', 1)
    await waitForNotifications(world, 'cid', 1)
    // Reply notifications off for ana, the subject muted for cid: only their mentions.
    expect((await world.notifications('ana')).map((n) => n.kind)).toEqual(['mention'])
    expect((await world.notifications('cid')).map((n) => n.kind)).toEqual(['mention'])
    // Mentions off in-app for ming: nothing, and nothing counted over REST.
    expect(await world.notifications('ming')).toEqual([])
    const count = await rest<{ count: number }>(world.s, 'GET', '/api/v1/notifications/unread-count', { bearer: await world.s.token('ming') })
    expect(count.body.count).toBe(0)
    // The mention was decided (handled), not forgotten: it is recorded as silenced.
    const handled = await world.s.server.storage.notifications.handled('post-1')
    expect([...handled.mentions.values()].some((users) => users.has('ming'))).toBe(true)
  })
})
