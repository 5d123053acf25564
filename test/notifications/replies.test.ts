/**
 * Reply notifications: the thread's participants and subscribers hear a reply, not the actor,
 * not those who muted the thread; they fold per thread until read, then a new round starts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createThread, reply, setSubscription } from '../../protocol/index.ts'
import { acknowledged } from '../helpers/provider.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, waitForNotifications, type World } from './setup.ts'

describe('reply notifications', () => {
  let world: World
  beforeEach(async () => {
    world = await startWorld()
    await registerSubject(world.s, 'post-1')
  })
  afterEach(async () => {
    await world.dispose()
  })

  it('reach participants and subscribers, not the actor or the muted, folded per thread until read', async () => {
    const [ana, ben, cid, dan] = await Promise.all(['ana', 'ben', 'cid', 'dan'].map((u) => world.open('post-1', u)))
    const as = (client: NonNullable<typeof ana>, userId: string) => ({ doc: client.doc, userId })
    const { threadId } = createThread(as(ana!, 'ana'), 'opening')
    await acknowledged(ana!)
    await waitFor(
      () => ben!.doc.getMap('threads').has(threadId) && cid!.doc.getMap('threads').has(threadId) && dan!.doc.getMap('threads').has(threadId),
      'thread everywhere',
    )
    reply(as(dan!, 'dan'), threadId, 'dan was here') // dan participates: ana hears it
    setSubscription(as(cid!, 'cid'), threadId, true)
    await acknowledged(dan!)
    await acknowledged(cid!)
    await waitForNotifications(world, 'ana', 1)
    setSubscription(as(dan!, 'dan'), threadId, false) // then mutes
    await acknowledged(dan!)
    await waitFor(() => ben!.doc.getMap('threads').size === 1 && JSON.stringify(ben!.doc.toJSON()).includes('"dan":false'), 'ben sees the mute')

    reply(as(ben!, 'ben'), threadId, 'first from ben')
    reply(as(ben!, 'ben'), threadId, 'second from ben')
    await acknowledged(ben!)
    await waitFor(async () => (await world.notifications('ana'))[0]?.activityCount === 3, 'ana’s thread notification folds three replies')
    const [forAna] = await world.notifications('ana')
    expect(forAna).toMatchObject({ kind: 'reply', threadId, actors: ['ben', 'dan'], preview: 'second from ben' })
    expect(await world.notifications('ana')).toHaveLength(1)
    const [forCid] = await waitForNotifications(world, 'cid', 1)
    expect(forCid).toMatchObject({ kind: 'reply', activityCount: 2, actors: ['ben'] })
    expect(await world.notifications('dan')).toEqual([]) // muted
    expect(await world.notifications('ben')).toEqual([]) // the actor

    // Read, then a new reply: the same notification starts a new round, unread again.
    await world.s.server.storage.notifications.markRead('ana', [forAna!.id], Date.now(), ['inbox'])
    reply(as(cid!, 'cid'), threadId, 'cid chimes in')
    await waitFor(async () => (await world.notifications('ana'))[0]?.actors[0] === 'cid', 'a new round for ana')
    const [again] = await world.notifications('ana')
    expect(again).toMatchObject({ id: forAna!.id, activityCount: 1, actors: ['cid'] })
    expect(again!.readAt).not.toBeNull()
    expect(again!.readAt!).toBeLessThan(again!.notifiedAt)
    expect(await world.s.server.storage.notifications.unreadCount('ana')).toBe(1)
  })

  it('a mentioned user hears the mention, not also the reply', async () => {
    const [ana, ben] = await Promise.all(['ana', 'ben'].map((u) => world.open('post-1', u)))
    const { threadId } = createThread({ doc: ana!.doc, userId: 'ana' }, 'opening')
    await acknowledged(ana!)
    await waitFor(() => ben!.doc.getMap('threads').has(threadId), 'thread at ben')
    reply({ doc: ben!.doc, userId: 'ben' }, threadId, [{ text: '@Ana', mention: 'ana' }, { text: ' see this' }])
    await waitForNotifications(world, 'ana', 1)
    await acknowledged(ben!)
    const notes = await world.notifications('ana')
    expect(notes.map((n) => n.kind)).toEqual(['mention'])
  })
})
