/**
 * Mention detection from document diffs against a real server and real providers: attribute runs
 * and `@handle` text, every rule and edge case, exactly once per (comment, user).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CommentField, createThread, deleteComment, editComment, findComment, getThread, reply } from '../../protocol/index.ts'
import { acknowledged, connectSynced } from '../helpers/provider.ts'
import { offlineCopy, registerSubject, startWorld, waitForNotifications, type World } from '../notifications/setup.ts'

function bodyOf(doc: Y.Doc, threadId: string, commentId: string): Y.Text {
  const body = findComment(getThread(doc, threadId), commentId).get(CommentField.body)
  if (!(body instanceof Y.Text)) throw new Error('no body')
  return body
}

describe('mention detection', () => {
  let world: World
  beforeEach(async () => {
    world = await startWorld()
    await registerSubject(world.s, 'post-1')
  })
  afterEach(async () => {
    await world.dispose()
  })

  it('notifies attribute mentions once; an edit that adds one notifies; remove and re-add does not; self notifies nobody', async () => {
    const ana = await world.open('post-1', 'ana')
    const ctx = { doc: ana.doc, userId: 'ana' }
    const { threadId, commentId } = createThread(ctx, [{ text: 'hi ' }, { text: '@Ben', mention: 'ben' }, { text: ' and ' }, { text: '@Ana', mention: 'ana' }])
    const [first] = await waitForNotifications(world, 'ben', 1)
    expect(first).toMatchObject({ kind: 'mention', subjectId: 'post-1', threadId, commentId, actors: ['ana'], preview: 'hi @Ben and @Ana', readAt: null })

    editComment(ctx, threadId, commentId, [{ text: '@Ben', mention: 'ben' }, { text: ' and ' }, { text: '@Cid', mention: 'cid' }])
    await waitForNotifications(world, 'cid', 1)
    editComment(ctx, threadId, commentId, 'nobody now')
    editComment(ctx, threadId, commentId, [
      { text: '@Ben', mention: 'ben' },
      { text: ' @Dan', mention: 'dan' },
    ])
    // dan's notification comes from the last edit: once it is there, that edit was detected.
    await waitForNotifications(world, 'dan', 1)
    await acknowledged(ana)
    expect(await world.notifications('ben')).toHaveLength(1)
    expect(await world.notifications('cid')).toHaveLength(1)
    expect(await world.notifications('ana')).toEqual([])
    const mentioned = world
      .eventsOf('mention.created')
      .map((e) => e.data.userId)
      .sort()
    expect(mentioned).toEqual(['ben', 'cid', 'dan'])
    expect(world.eventsOf('notification.created')).toHaveLength(3)
    expect(world.eventsOf('comment.created')).toHaveLength(1)
    expect(world.eventsOf('comment.edited').length).toBeGreaterThanOrEqual(3)
  })

  it('resolves @handles through the directory: punctuation, unicode names; not emails, not unknown handles', async () => {
    const ana = await world.open('post-1', 'ana')
    createThread({ doc: ana.doc, userId: 'ana' }, 'ping @ben, (@CID) — @zoë. @小明! mail ana@example.com or x@dan, @nobody and @example')
    await waitForNotifications(world, 'ex', 1)
    for (const userId of ['ben', 'cid', 'zoe', 'ming']) expect(await world.notifications(userId), userId).toHaveLength(1)
    expect(await world.notifications('dan')).toEqual([]) // x@dan: preceded by a letter
    const handled = await world.s.server.storage.notifications.handled('post-1')
    expect([...handled.mentions.values()].flatMap((users) => [...users]).sort()).toEqual(['ben', 'cid', 'ex', 'ming', 'zoe'])
  })

  it('detects offline edits when they arrive, a handle split across two edits once', async () => {
    const ana = await world.open('post-1', 'ana')
    const { threadId, commentId } = createThread({ doc: ana.doc, userId: 'ana' }, 'draft')
    await acknowledged(ana)
    const offline = offlineCopy(ana.doc)
    const body = bodyOf(offline, threadId, commentId)
    offline.transact(() => body.insert(body.length, ' cc @be'))
    offline.transact(() => body.insert(body.length, 'n and @Ci'))
    offline.transact(() => body.insert(body.length, 'd', { mention: 'cid' }))
    expect(await world.notifications('ben')).toEqual([])
    // The offline replica reconnects: its edits arrive in one sync step.
    const back = await connectSynced(world.s.server.webSocketUrl, 'comments/post-1', await world.s.token('ana', { access: {} }), offline)
    world.clients.push(back)
    await waitForNotifications(world, 'ben', 1)
    await waitForNotifications(world, 'cid', 1)
    await acknowledged(back)
    expect(await world.notifications('ben')).toHaveLength(1)
    expect(await world.notifications('cid')).toHaveLength(1)
  })

  it('notifies nobody for a user who may not read the subject, or for a comment deleted before it arrived', async () => {
    const ana = await world.open('post-1', 'ana')
    const ctx = { doc: ana.doc, userId: 'ana' }
    const { threadId } = createThread(ctx, [{ text: '@Zed', mention: 'zed' }, { text: ' and @dan' }])
    await waitForNotifications(world, 'dan', 1)
    expect(await world.notifications('zed')).toEqual([])
    const offline = offlineCopy(ana.doc)
    const octx = { doc: offline, userId: 'ana' }
    const { commentId: gone } = reply(octx, threadId, [{ text: '@Ben', mention: 'ben' }])
    deleteComment(octx, threadId, gone)
    reply(octx, threadId, [{ text: '@Cid', mention: 'cid' }])
    const back = await connectSynced(world.s.server.webSocketUrl, 'comments/post-1', await world.s.token('ana', { access: {} }), offline)
    world.clients.push(back)
    await waitForNotifications(world, 'cid', 1)
    expect(await world.notifications('ben')).toEqual([])
    const handled = await world.s.server.storage.notifications.handled('post-1')
    expect(handled.comments.has(gone)).toBe(true)
    expect([...handled.mentions.values()].some((users) => users.has('zed'))).toBe(true) // handled: no access
  })
})
