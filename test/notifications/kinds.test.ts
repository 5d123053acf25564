/**
 * Contract additions, "Notification kinds and who hears them": `thread` (hosts and followers when
 * a thread starts, folded per subject), `comment` (hosts, for comments in threads they are not
 * in, folded per subject) beside `reply` and `mention`; never the actor, never someone who may not
 * read the subject.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createThread, followersMap, reply, setFollowing, threadsMap } from '../../protocol/index.ts'
import type { NotificationRecord } from '../../core/storage/types.ts'
import { acknowledged } from '../helpers/provider.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from './setup.ts'

/** kind → activityCount of a user's notifications. */
function byKind(notes: NotificationRecord[]): Record<string, number> {
  return Object.fromEntries(notes.map((n) => [n.kind, n.activityCount]))
}

describe('thread and comment notifications', () => {
  let world: World
  beforeEach(async () => {
    world = await startWorld()
    await registerSubject(world.s, 'post-1', ['zoe'])
  })
  afterEach(async () => {
    await world.dispose()
  })

  it('hosts and followers hear a thread start; hosts alone hear comments in threads they are not in', async () => {
    const [zoe, ana, ben, cid, dan] = await Promise.all(['zoe', 'ana', 'ben', 'cid', 'dan'].map((u) => world.open('post-1', u)))
    // Hosts: ana and dan, and zed, who may not read the subject. Ben follows.
    zoe!.doc.transact(() => {
      for (const host of ['ana', 'dan', 'zed']) followersMap(zoe!.doc).set(host, 'host')
    })
    setFollowing({ doc: ben!.doc, userId: 'ben' }, true)
    await acknowledged(zoe!)
    await acknowledged(ben!)
    await waitFor(() => followersMap(cid!.doc).size === 4 && followersMap(dan!.doc).size === 4, 'the followers everywhere')

    // Cid starts a thread: hosts and followers hear it, cid does not.
    const first = createThread({ doc: cid!.doc, userId: 'cid' }, 'a question')
    await acknowledged(cid!)
    await waitFor(async () => (await world.notifications('ben')).length === 1, 'ben hears the new thread')
    await waitFor(() => threadsMap(ana!.doc).has(first.threadId), 'the thread at ana')

    // Ana (a host) answers: cid hears the reply; dan, a host not in the thread, hears a comment.
    reply({ doc: ana!.doc, userId: 'ana' }, first.threadId, 'an answer')
    await acknowledged(ana!)
    await waitFor(async () => byKind(await world.notifications('dan')).comment === 1, 'dan hears the comment')

    // Dan starts a thread, then cid replies in it: the thread notifications fold per subject.
    const second = createThread({ doc: dan!.doc, userId: 'dan' }, 'another topic')
    await acknowledged(dan!)
    await waitFor(() => threadsMap(cid!.doc).has(second.threadId), 'the second thread at cid')
    reply({ doc: cid!.doc, userId: 'cid' }, second.threadId, 'me too')
    await acknowledged(cid!)
    await waitFor(async () => byKind(await world.notifications('dan')).reply === 1, 'dan hears the reply in his thread')
    await waitFor(async () => byKind(await world.notifications('ana')).comment === 1, 'ana hears the comment in dan’s thread')

    expect(byKind(await world.notifications('ana'))).toEqual({ thread: 2, comment: 1 })
    // Dan is in his own thread: the reply there is a reply, not a comment.
    expect(byKind(await world.notifications('dan'))).toEqual({ thread: 1, comment: 1, reply: 1 })
    // A follower hears thread starts, never comments.
    expect(byKind(await world.notifications('ben'))).toEqual({ thread: 2 })
    expect(byKind(await world.notifications('cid'))).toEqual({ reply: 1 })
    // Zed is a host who may not read the subject: nothing.
    expect(await world.notifications('zed')).toEqual([])
    const [threadForAna] = (await world.notifications('ana')).filter((n) => n.kind === 'thread')
    expect(threadForAna).toMatchObject({ subjectId: 'post-1', actors: ['dan', 'cid'], priority: 'normal' })
  })
})
