/**
 * Contract additions, "Notification kinds and who hears them": `reaction` tells the comment's
 * author, folded per comment until read; removing a reaction before it was read takes it back
 * out of the fold (and the inbox document); never the reactor's own comment, never an author who
 * muted the thread, may not read the subject, or turned reactions off in-app. Both backends.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createThread, react, readInbox, reply, setSubscription, threadsMap, unreact } from '../../protocol/index.ts'
import type { NotificationRecord } from '../../core/storage/types.ts'
import { BACKENDS } from '../access/backends.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from './setup.ts'

async function reactionsOf(world: World, userId: string): Promise<NotificationRecord[]> {
  return (await world.notifications(userId)).filter((n) => n.kind === 'reaction')
}

/** Waits until the user's one reaction notification matches `expected` (count and actors), or until they have none (`null`). */
async function waitForReaction(world: World, userId: string, expected: { activityCount: number; actors: string[] } | null, what: string) {
  await waitFor(async () => {
    const [note, extra] = await reactionsOf(world, userId)
    if (expected === null) return note === undefined
    return extra === undefined && note?.activityCount === expected.activityCount && note.actors.join() === expected.actors.join()
  }, what)
}

describe.each(BACKENDS)('reaction notifications ($name)', (backend) => {
  let world: World
  afterEach(async () => {
    await world.dispose()
  })

  it('fold per comment for its author, are taken back while unread, and count again once re-added', async () => {
    world = await startWorld({}, backend)
    await registerSubject(world.s, 'post-1')
    const [ana, ben, cid] = (await Promise.all(['ana', 'ben', 'cid'].map((u) => world.open('post-1', u)))) as [TestClient, TestClient, TestClient]
    const inbox = await connectSynced(world.s.server.webSocketUrl, 'inbox/ana', await world.s.token('ana'))
    world.clients.push(inbox)
    const { threadId, commentId } = createThread({ doc: ana.doc, userId: 'ana' }, 'a photo of the bay')
    await acknowledged(ana)
    await waitFor(() => threadsMap(ben.doc).has(threadId) && threadsMap(cid.doc).has(threadId), 'the thread everywhere')

    react({ doc: ben.doc, userId: 'ben' }, threadId, commentId, '👍')
    await acknowledged(ben)
    await waitForReaction(world, 'ana', { activityCount: 1, actors: ['ben'] }, 'ben’s reaction')
    react({ doc: cid.doc, userId: 'cid' }, threadId, commentId, '👍')
    react({ doc: cid.doc, userId: 'cid' }, threadId, commentId, '❤️')
    // The author's own reaction tells nobody.
    react({ doc: ana.doc, userId: 'ana' }, threadId, commentId, '🎉')
    await acknowledged(cid)
    await acknowledged(ana)
    await waitForReaction(world, 'ana', { activityCount: 3, actors: ['cid', 'ben'] }, 'three reactions folded')
    const [folded] = await reactionsOf(world, 'ana')
    expect(folded).toMatchObject({ subjectId: 'post-1', threadId, commentId, priority: 'low', preview: 'a photo of the bay', readAt: null })
    await waitFor(() => readInbox(inbox.doc).some((n) => n.kind === 'reaction' && n.activityCount === 3), 'the fold in ana’s inbox document')

    // Cid takes one back: still among the actors (another reaction stays); then the other.
    unreact({ doc: cid.doc, userId: 'cid' }, threadId, commentId, '❤️')
    await acknowledged(cid)
    await waitForReaction(world, 'ana', { activityCount: 2, actors: ['cid', 'ben'] }, 'one of cid’s reactions taken back')
    unreact({ doc: cid.doc, userId: 'cid' }, threadId, commentId, '👍')
    await acknowledged(cid)
    await waitForReaction(world, 'ana', { activityCount: 1, actors: ['ben'] }, 'cid gone from the fold')
    // The last one taken back: the notification leaves storage and the inbox document.
    unreact({ doc: ben.doc, userId: 'ben' }, threadId, commentId, '👍')
    await acknowledged(ben)
    await waitForReaction(world, 'ana', null, 'the notification gone')
    await waitFor(() => !readInbox(inbox.doc).some((n) => n.kind === 'reaction'), 'gone from the inbox document')

    // Added again, it counts again.
    react({ doc: ben.doc, userId: 'ben' }, threadId, commentId, '👍')
    await acknowledged(ben)
    await waitForReaction(world, 'ana', { activityCount: 1, actors: ['ben'] }, 'ben’s reaction again')
    const [again] = await reactionsOf(world, 'ana')
    expect(world.eventsOf('notification.created').filter((e) => e.data.notification.kind === 'reaction')).toHaveLength(2)

    // Once read, a removal changes nothing, and adding it back does not notify again.
    const read = await rest<{ updated: number }>(world.s, 'POST', '/api/v1/notifications/read', {
      bearer: await world.s.token('ana'),
      json: { ids: [again!.id] },
    })
    expect(read.body.updated).toBe(1)
    unreact({ doc: ben.doc, userId: 'ben' }, threadId, commentId, '👍')
    react({ doc: ben.doc, userId: 'ben' }, threadId, commentId, '👍')
    await acknowledged(ben)
    // Cid's reply to ana's thread is detected after those, in order: once it is here, they were handled.
    reply({ doc: cid.doc, userId: 'cid' }, threadId, 'lovely')
    await acknowledged(cid)
    await waitFor(async () => (await world.notifications('ana')).some((n) => n.kind === 'reply'), 'cid’s reply to ana')
    const [after] = await reactionsOf(world, 'ana')
    expect(after).toMatchObject({ id: again!.id, activityCount: 1, version: again!.version + 1 })
    expect(after!.readAt).not.toBeNull()
  })

  it('never reach an author who muted the thread, may not read the subject, or turned reactions off', async () => {
    world = await startWorld({}, backend)
    await registerSubject(world.s, 'post-1')
    const [ana, ben, cid, dan] = (await Promise.all(['ana', 'ben', 'cid', 'dan'].map((u) => world.open('post-1', u)))) as [
      TestClient,
      TestClient,
      TestClient,
      TestClient,
    ]
    const muted = createThread({ doc: ana.doc, userId: 'ana' }, 'muted by its author')
    setSubscription({ doc: ana.doc, userId: 'ana' }, muted.threadId, false)
    const silenced = createThread({ doc: cid.doc, userId: 'cid' }, 'by someone who turned reactions off')
    const revoked = createThread({ doc: dan.doc, userId: 'dan' }, 'by someone about to lose access')
    const control = createThread({ doc: ben.doc, userId: 'ben' }, 'the control')
    await Promise.all([acknowledged(ana), acknowledged(cid), acknowledged(dan), acknowledged(ben)])
    await waitFor(
      () => [muted, silenced, revoked, control].every((t) => threadsMap(ben.doc).has(t.threadId) && threadsMap(ana.doc).has(t.threadId)),
      'all threads',
    )
    const prefs = await rest(world.s, 'PUT', '/api/v1/preferences', {
      bearer: await world.s.token('cid'),
      json: { kinds: { reaction: { inApp: false } } },
    })
    expect(prefs.status).toBe(200)
    const gone = await rest(world.s, 'DELETE', '/api/v1/subjects/post-1/members/dan', { bearer: TEST_API_KEY })
    expect(gone.status).toBe(200)

    react({ doc: ben.doc, userId: 'ben' }, muted.threadId, muted.commentId, '👍')
    react({ doc: ben.doc, userId: 'ben' }, silenced.threadId, silenced.commentId, '👍')
    react({ doc: ben.doc, userId: 'ben' }, revoked.threadId, revoked.commentId, '👍')
    await acknowledged(ben)
    // Detected in order: once ana's reaction to the control is recorded, ben's were handled.
    react({ doc: ana.doc, userId: 'ana' }, control.threadId, control.commentId, '👀')
    await acknowledged(ana)
    await waitForReaction(world, 'ben', { activityCount: 1, actors: ['ana'] }, 'the control reaction')
    expect(await reactionsOf(world, 'ana')).toEqual([])
    expect(await reactionsOf(world, 'cid')).toEqual([])
    expect(await reactionsOf(world, 'dan')).toEqual([])
    expect(world.eventsOf('reaction.added')).toHaveLength(4)
  })
})
