/**
 * Contract additions, "Notification kinds and who hears them": `moderation` tells the author when
 * a moderator hid or deleted their comment, folded per comment; never for their own deletion.
 * Hides are read from the comment's `moderation`, so a rescan finds one a crash left undetected
 * (test/notifications/crash.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CommentField, createThread, deleteComment, findComment, getThread, reply, threadsMap } from '../../protocol/index.ts'
import type { NotificationRecord } from '../../core/storage/types.ts'
import { acknowledged, type TestClient } from '../helpers/provider.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from './setup.ts'

function hasComment(doc: Y.Doc, threadId: string, commentId: string): boolean {
  const comments = threadsMap(doc).get(threadId)?.get('comments')
  return comments instanceof Y.Array && comments.toArray().some((c) => c instanceof Y.Map && c.get(CommentField.id) === commentId)
}

async function moderationOf(world: World, userId: string): Promise<NotificationRecord[]> {
  return (await world.notifications(userId)).filter((n) => n.kind === 'moderation')
}

/** As a moderator's client would: sets `moderation` (or clears it) on someone's comment. */
function setHidden(client: TestClient, threadId: string, commentId: string, moderation: { hiddenBy: string; reason: string; at: number } | null): void {
  const comment = findComment(getThread(client.doc, threadId), commentId)
  client.doc.transact(() => comment.set(CommentField.moderation, moderation))
}

/** As a moderator's client would: deletes someone's comment (the protocol's writer deletes only one's own). */
function deleteAsModerator(client: TestClient, threadId: string, commentId: string): void {
  const comment = findComment(getThread(client.doc, threadId), commentId)
  client.doc.transact(() => {
    comment.set(CommentField.deletedAt, Date.now())
    const body = comment.get(CommentField.body)
    if (body instanceof Y.Text) body.delete(0, body.length)
  })
}

describe('moderation notifications to authors', () => {
  let world: World
  beforeEach(async () => {
    world = await startWorld()
    await registerSubject(world.s, 'post-1', ['zoe'])
  })
  afterEach(async () => {
    await world.dispose()
  })

  it('tell the author of a comment a moderator hid or deleted, folded per comment, never for their own deletion', async () => {
    const [zoe, ana, ben] = (await Promise.all(['zoe', 'ana', 'ben'].map((u) => world.open('post-1', u)))) as [TestClient, TestClient, TestClient]
    const { threadId, commentId } = createThread({ doc: ana.doc, userId: 'ana' }, 'buy cheap watches')
    await acknowledged(ana)
    await waitFor(() => threadsMap(ben.doc).has(threadId) && threadsMap(zoe.doc).has(threadId), 'the thread everywhere')
    const bens = reply({ doc: ben.doc, userId: 'ben' }, threadId, 'a rude remark')
    const own = reply({ doc: ben.doc, userId: 'ben' }, threadId, 'a typo')
    await acknowledged(ben)
    await waitFor(() => hasComment(zoe.doc, threadId, bens.commentId) && hasComment(zoe.doc, threadId, own.commentId), 'ben’s replies at zoe')

    setHidden(zoe, threadId, commentId, { hiddenBy: 'zoe', reason: 'spam', at: Date.now() })
    await acknowledged(zoe)
    await waitFor(async () => (await moderationOf(world, 'ana')).length === 1, 'ana hears the hide')
    const [hidden] = await moderationOf(world, 'ana')
    expect(hidden).toMatchObject({ subjectId: 'post-1', threadId, commentId, actors: ['zoe'], activityCount: 1, priority: 'high', preview: 'spam' })

    // Unhidden and hidden again: another action, folded into the same notification.
    setHidden(zoe, threadId, commentId, null)
    await acknowledged(zoe)
    setHidden(zoe, threadId, commentId, { hiddenBy: 'zoe', reason: 'still spam', at: Date.now() + 1 })
    await acknowledged(zoe)
    await waitFor(async () => (await moderationOf(world, 'ana'))[0]?.activityCount === 2, 'the second hide folds in')

    // Ben deletes his own comment: nobody hears; zoe deletes his other one: ben hears.
    deleteComment({ doc: ben.doc, userId: 'ben' }, threadId, own.commentId)
    await acknowledged(ben)
    deleteAsModerator(zoe, threadId, bens.commentId)
    await acknowledged(zoe)
    await waitFor(async () => (await moderationOf(world, 'ben')).length === 1, 'ben hears the deletion')
    const [deleted] = await moderationOf(world, 'ben')
    expect(deleted).toMatchObject({ commentId: bens.commentId, actors: ['zoe'], activityCount: 1 })
    expect(await moderationOf(world, 'zoe')).toEqual([])
    expect(world.eventsOf('notification.created').filter((e) => e.data.notification.kind === 'moderation')).toHaveLength(2)
  })
})
