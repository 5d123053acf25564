/**
 * Contract additions, "Notification kinds and who hears them", two rules end to end: a host who
 * replies in their own thread hears nothing of it, while another host (not in the thread) hears a
 * `comment`, participants a `reply`, and followers nothing; a user who muted a thread
 * (`subscribers[user] = false`) hears nothing from it except mentions.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createThread, followersMap, reply, setFollowing, setSubscription, threadsMap } from '../../protocol/index.ts'
import type { NotificationRecord } from '../../core/storage/types.ts'
import { acknowledged, type TestClient } from '../helpers/provider.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from './setup.ts'

/** kind → [activityCount, actors] of a user's notifications. */
function byKind(notes: NotificationRecord[]): Record<string, [number, string[]]> {
  return Object.fromEntries(notes.map((n) => [n.kind, [n.activityCount, n.actors]]))
}

describe('hosts in their own thread, and muted threads', () => {
  let world: World
  beforeEach(async () => {
    world = await startWorld()
    await registerSubject(world.s, 'post-1', ['zoe'])
  })
  afterEach(async () => {
    await world.dispose()
  })

  it('a host replying in their own thread hears nothing; the other host hears a comment, the participant a reply', async () => {
    const [zoe, ben, cid, dan] = (await Promise.all(['zoe', 'ben', 'cid', 'dan'].map((u) => world.open('post-1', u)))) as TestClient[]
    zoe!.doc.transact(() => {
      for (const host of ['ana', 'dan']) followersMap(zoe!.doc).set(host, 'host')
    })
    setFollowing({ doc: ben!.doc, userId: 'ben' }, true)
    await acknowledged(zoe!)
    await acknowledged(ben!)
    await waitFor(() => followersMap(dan!.doc).size === 3 && followersMap(cid!.doc).size === 3, 'the followers everywhere')

    // Dan, a host, starts a thread; cid replies in it.
    const { threadId } = createThread({ doc: dan!.doc, userId: 'dan' }, 'host topic')
    await acknowledged(dan!)
    await waitFor(() => threadsMap(cid!.doc).has(threadId), 'the thread at cid')
    reply({ doc: cid!.doc, userId: 'cid' }, threadId, 'a question')
    await acknowledged(cid!)
    await waitFor(async () => byKind(await world.notifications('dan')).reply?.[0] === 1, 'dan hears cid’s reply')
    await waitFor(() => (threadsMap(dan!.doc).get(threadId)?.get('comments') as { length: number } | undefined)?.length === 2, 'cid’s reply at dan')

    // Dan replies in his own thread.
    reply({ doc: dan!.doc, userId: 'dan' }, threadId, 'the host answers')
    await acknowledged(dan!)
    await waitFor(async () => byKind(await world.notifications('cid')).reply?.[0] === 1, 'cid hears the host’s reply')
    await waitFor(async () => byKind(await world.notifications('ana')).comment?.[0] === 2, 'ana hears both comments')

    // Dan's own reply folded into nothing of his: still cid's one reply.
    expect(byKind(await world.notifications('dan'))).toEqual({ reply: [1, ['cid']] })
    expect(byKind(await world.notifications('cid'))).toEqual({ reply: [1, ['dan']] })
    expect(byKind(await world.notifications('ana'))).toEqual({ thread: [1, ['dan']], comment: [2, ['dan', 'cid']] })
    // A follower hears the thread start, no comment or reply.
    expect(byKind(await world.notifications('ben'))).toEqual({ thread: [1, ['dan']] })
  })

  it('a user who muted a thread hears only mentions from it', async () => {
    const [ana, ben, cid] = (await Promise.all(['ana', 'ben', 'cid'].map((u) => world.open('post-1', u)))) as TestClient[]
    const { threadId } = createThread({ doc: ana!.doc, userId: 'ana' }, 'opening')
    await acknowledged(ana!)
    await waitFor(() => threadsMap(ben!.doc).has(threadId) && threadsMap(cid!.doc).has(threadId), 'the thread everywhere')
    reply({ doc: cid!.doc, userId: 'cid' }, threadId, 'cid takes part')
    setSubscription({ doc: cid!.doc, userId: 'cid' }, threadId, false)
    await acknowledged(cid!)
    await waitFor(() => JSON.stringify(ben!.doc.toJSON()).includes('"cid":false'), 'ben sees cid’s mute')

    reply({ doc: ben!.doc, userId: 'ben' }, threadId, 'no mention')
    reply({ doc: ben!.doc, userId: 'ben' }, threadId, [{ text: '@Cid', mention: 'cid' }, { text: ' look' }])
    reply({ doc: ben!.doc, userId: 'ben' }, threadId, 'after the mention')
    await acknowledged(ben!)
    // Ana (the thread's creator) hears all three of ben's replies, and cid's: detection is done.
    await waitFor(async () => byKind(await world.notifications('ana')).reply?.[0] === 4, 'ana hears all four replies')
    const cids = await world.notifications('cid')
    expect(cids.map((n) => [n.kind, n.actors, n.preview])).toEqual([['mention', ['ben'], '@Cid look']])
  })
})
