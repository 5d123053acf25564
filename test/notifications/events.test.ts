/**
 * Typed events in process: each comment, reaction and thread change a client makes is announced
 * once with its data; a throwing handler is contained. Notification REST refusals.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createThread, deleteComment, editComment, react, reply, setResolved, unreact } from '../../protocol/index.ts'
import { acknowledged } from '../helpers/provider.ts'
import { codeOf, rest } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, type World } from './setup.ts'

describe('typed events', () => {
  let world: World
  beforeEach(async () => {
    world = await startWorld()
    await registerSubject(world.s, 'post-1')
  })
  afterEach(async () => {
    await world.dispose()
  })

  it('announces comments, reactions and resolution once each; a failing handler changes nothing', async () => {
    world.s.server.events.on('comment.created', () => {
      throw new Error('a broken integrator handler')
    })
    world.s.server.events.on('comment.edited', () => Promise.reject(new Error('async too')))
    const ana = await world.open('post-1', 'ana')
    const ctx = { doc: ana.doc, userId: 'ana' }
    const { threadId, commentId } = createThread(ctx, 'first')
    const { commentId: second } = reply(ctx, threadId, 'second', commentId)
    editComment(ctx, threadId, commentId, 'first, edited')
    react(ctx, threadId, second, '👍')
    unreact(ctx, threadId, second, '👍')
    setResolved(ctx, threadId, true)
    deleteComment(ctx, threadId, second)
    await acknowledged(ana)
    await waitFor(() => world.eventsOf('comment.deleted').length === 1, 'the deletion announced')
    expect(world.eventsOf('comment.created').map((e) => e.data)).toEqual([
      { subjectId: 'post-1', threadId, commentId, authorId: 'ana', parentId: null, text: 'first', mentions: [] },
      { subjectId: 'post-1', threadId, commentId: second, authorId: 'ana', parentId: commentId, text: 'second', mentions: [] },
    ])
    expect(world.eventsOf('comment.edited').map((e) => e.data.text)).toEqual(['first, edited'])
    expect(world.eventsOf('reaction.added').map((e) => e.data)).toEqual([{ subjectId: 'post-1', threadId, commentId: second, userId: 'ana', emoji: '👍' }])
    expect(world.eventsOf('reaction.removed')).toHaveLength(1)
    expect(world.eventsOf('thread.resolved').map((e) => e.data)).toEqual([{ subjectId: 'post-1', threadId, userId: 'ana' }])
    expect(world.eventsOf('comment.deleted').map((e) => e.data.commentId)).toEqual([second])
    for (const event of world.events) expect(event.id).toMatch(/.+/)
    // The server still serves after the failing handlers.
    createThread(ctx, 'still here')
    await acknowledged(ana)
    await waitFor(() => world.eventsOf('comment.created').length === 3, 'a later comment announced')
  })

  it('refuses bad notification requests with their codes', async () => {
    const token = await world.s.token('ben')
    expect((await rest(world.s, 'GET', '/api/v1/notifications')).status).toBe(401)
    const badCursor = await rest(world.s, 'GET', '/api/v1/notifications?cursor=nope', { bearer: token })
    expect([badCursor.status, codeOf(badCursor)]).toEqual([400, 'invalid_request'])
    const empty = await rest(world.s, 'POST', '/api/v1/notifications/read', { bearer: token, json: { ids: [] } })
    expect(empty.status).toBe(400)
    const notAll = await rest(world.s, 'POST', '/api/v1/notifications/read', { bearer: token, json: { all: false } })
    expect(notAll.status).toBe(400)
    expect((await rest(world.s, 'GET', '/api/v1/notifications/unread-count?x=1', { bearer: token })).status).toBe(400)
    expect((await rest<{ count: number }>(world.s, 'GET', '/api/v1/notifications/unread-count', { bearer: token })).body).toEqual({ count: 0, unseen: 0 })
  })
})
