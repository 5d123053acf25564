/**
 * Contract additions, "Threads over REST": every write a socket client can make, over REST as the
 * token's user, through the same write guard; each reaches a real `@hocuspocus/provider` client at
 * once; each refusal has its status and code; a REST mention notifies once; a first thread creates
 * the subject.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFollowers, readThreads, type Thread } from '../../protocol/index.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { codeOf, rest, type RestOptions } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'
import { registerSubject, startWorld, waitForNotifications, type World } from '../notifications/setup.ts'

/** "At once": a socket client sees a REST write well within this. */
const DELIVERY_MS = 1_000

describe('REST parity with sockets', () => {
  let world: World
  let watcher: TestClient
  const base = '/api/v1/subjects/talk/threads'
  const as = async (userId: string, options: RestOptions = {}): Promise<RestOptions> => ({ bearer: await world.s.token(userId, { access: {} }), ...options })
  const thread = (id: string): Thread | undefined => readThreads(watcher.doc).find((t) => t.id === id)

  beforeAll(async () => {
    world = await startWorld()
    await registerSubject(world.s, 'talk', ['zoe'])
    watcher = await world.open('talk', 'dan')
  })
  afterAll(async () => {
    await world.dispose()
  })

  it('creates a subject that was never written with its first thread, for a user with comment on it', async () => {
    const token = await world.s.token('bot', { access: { 'comments/new-*': 'comment', 'comments/ro-*': 'read' } })
    const created = await rest<{ threadId: string }>(world.s, 'POST', '/api/v1/subjects/new-article/threads', { bearer: token, json: { body: 'first!' } })
    expect(created.status).toBe(201)
    const reader = await connectSynced(world.s.server.webSocketUrl, 'comments/new-article', token)
    world.clients.push(reader)
    expect(readThreads(reader.doc).map((t) => [t.id, t.comments[0]?.text])).toEqual([[created.body.threadId, 'first!']])
    const readOnly = await rest(world.s, 'POST', '/api/v1/subjects/ro-article/threads', { bearer: token, json: { body: 'no' } })
    expect([readOnly.status, codeOf(readOnly)]).toEqual([403, 'forbidden'])
    expect(await world.s.server.storage.documents.exists('comments/ro-article')).toBe(false)
  })

  it('delivers each REST write to socket clients at once', async () => {
    const created = await rest<{ threadId: string; commentId: string }>(world.s, 'POST', base, await as('ana', { json: { body: 'draft' } }))
    expect(created.status).toBe(201)
    const { threadId, commentId } = created.body
    const path = `${base}/${threadId}`
    const comment = `${path}/comments/${commentId}`
    const seen = (what: string, check: (t: Thread) => boolean) =>
      waitFor(() => thread(threadId) !== undefined && check(thread(threadId) as Thread), what, DELIVERY_MS)

    const steps: Array<[string, number, () => Promise<{ status: number }>, (t: Thread) => boolean]> = [
      [
        'edit',
        200,
        async () => rest(world.s, 'PATCH', comment, await as('ana', { json: { body: 'final' } })),
        (t) => t.comments[0]?.text === 'final' && t.comments[0].editedAt !== null,
      ],
      [
        'react',
        204,
        async () => rest(world.s, 'PUT', `${comment}/reactions/${encodeURIComponent('👍')}`, await as('ben')),
        (t) => t.comments[0]?.reactions.some((r) => r.emoji === '👍' && r.userIds.includes('ben')) === true,
      ],
      [
        'unreact',
        204,
        async () => rest(world.s, 'DELETE', `${comment}/reactions/${encodeURIComponent('👍')}`, await as('ben')),
        (t) => t.comments[0]?.reactions.length === 0,
      ],
      ['resolve', 200, async () => rest(world.s, 'POST', `${path}/resolve`, await as('ben')), (t) => t.resolved && t.resolvedBy === 'ben'],
      ['reopen', 200, async () => rest(world.s, 'POST', `${path}/reopen`, await as('ben')), (t) => !t.resolved],
      [
        'mute',
        200,
        async () => rest(world.s, 'PUT', `${path}/subscription`, await as('cid', { json: { subscribed: false } })),
        (t) => t.subscribers.cid === false,
      ],
      ['read', 200, async () => rest(world.s, 'POST', `${path}/read`, await as('cid')), (t) => typeof t.readBy.cid === 'number'],
      ['delete', 204, async () => rest(world.s, 'DELETE', comment, await as('ana')), (t) => t.comments[0]?.deletedAt !== null && t.comments[0]?.text === ''],
    ]
    for (const [name, status, call, check] of steps) {
      const answer = await call()
      expect(answer.status, name).toBe(status)
      await seen(`the watcher sees the REST ${name}`, check)
    }

    expect((await rest(world.s, 'PUT', '/api/v1/subjects/talk/follow', await as('cid'))).status).toBe(200)
    await waitFor(() => readFollowers(watcher.doc).cid === 'follower', 'the watcher sees the follow', DELIVERY_MS)
    expect((await rest(world.s, 'DELETE', '/api/v1/subjects/talk/follow', await as('cid'))).status).toBe(200)
    await waitFor(() => readFollowers(watcher.doc).cid === undefined, 'the watcher sees the unfollow', DELIVERY_MS)
  })

  it('lets a moderator delete anyone’s comment, and refuses what the guard refuses', async () => {
    const created = await rest<{ threadId: string; commentId: string }>(world.s, 'POST', base, await as('ana', { json: { body: 'mine' } }))
    const { threadId, commentId } = created.body
    const comment = `${base}/${threadId}/comments/${commentId}`
    const gone = await rest<{ commentId: string }>(world.s, 'POST', `${base}/${threadId}/comments`, await as('ana', { json: { body: 'gone soon' } }))
    expect((await rest(world.s, 'DELETE', `${base}/${threadId}/comments/${gone.body.commentId}`, await as('ana'))).status).toBe(204)
    const deleted = `${base}/${threadId}/comments/${gone.body.commentId}`
    const reader = { bearer: await world.s.token('rita', { access: { 'comments/talk': 'read' } }) }

    const cases: Array<[string, string, string, RestOptions, number, string]> = [
      ['edit another user’s comment', 'PATCH', comment, await as('ben', { json: { body: 'hijack' } }), 403, 'write_rejected'],
      ['delete another user’s comment', 'DELETE', comment, await as('ben'), 403, 'write_rejected'],
      ['write with the read role', 'PATCH', comment, { ...reader, json: { body: 'x' } }, 403, 'forbidden'],
      ['unknown thread', 'POST', `${base}/no-thread/resolve`, await as('ben'), 404, 'not_found'],
      ['unknown comment', 'PATCH', `${base}/${threadId}/comments/no-comment`, await as('ana', { json: { body: 'x' } }), 404, 'not_found'],
      ['unknown comment, reaction', 'PUT', `${base}/${threadId}/comments/no-comment/reactions/x`, await as('ben'), 404, 'not_found'],
      ['edit a deleted comment', 'PATCH', deleted, await as('ana', { json: { body: 'back' } }), 409, 'comment_deleted'],
      ['react to a deleted comment', 'PUT', `${deleted}/reactions/x`, await as('ben'), 409, 'comment_deleted'],
      ['delete a deleted comment', 'DELETE', deleted, await as('ana'), 409, 'comment_deleted'],
    ]
    const answers: Array<[string, number, string | undefined]> = []
    for (const [name, method, path, options] of cases) {
      const answer = await rest(world.s, method, path, options)
      answers.push([name, answer.status, codeOf(answer)])
    }
    expect(answers).toEqual(cases.map(([name, , , , status, code]) => [name, status, code]))
    expect(thread(threadId)?.comments[0]?.text).toBe('mine')

    expect((await rest(world.s, 'DELETE', comment, await as('zoe'))).status).toBe(204)
    await waitFor(() => thread(threadId)?.comments[0]?.deletedAt !== null, 'the watcher sees the moderator’s deletion', DELIVERY_MS)
    expect(thread(threadId)?.comments[0]?.text).toBe('')
  })

  it('notifies a REST mention once, as a socket mention does', async () => {
    const created = await rest<{ threadId: string }>(world.s, 'POST', base, await as('ana', { json: { body: 'question' } }))
    const replied = await rest<{ commentId: string }>(
      world.s,
      'POST',
      `${base}/${created.body.threadId}/comments`,
      await as('cid', { json: { body: [{ text: 'ask ' }, { text: '@Ben', mention: 'ben' }] } }),
    )
    expect(replied.status).toBe(201)
    const comment = `${base}/${created.body.threadId}/comments/${replied.body.commentId}`
    expect(
      (await rest(world.s, 'PATCH', comment, await as('cid', { json: { body: [{ text: 'please ask ' }, { text: '@Ben', mention: 'ben' }] } }))).status,
    ).toBe(200)
    await waitForNotifications(world, 'ben', 1)
    // Another write after the edit, to be sure the edit was handled before counting.
    expect(
      (await rest(world.s, 'POST', `${base}/${created.body.threadId}/comments`, await as('cid', { json: { body: [{ text: '@Dan', mention: 'dan' }] } })))
        .status,
    ).toBe(201)
    await waitFor(async () => (await world.notifications('dan')).some((n) => n.kind === 'mention'), 'dan’s mention')
    const mentions = (await world.notifications('ben')).filter((n) => n.kind === 'mention')
    expect(mentions.map((n) => n.commentId)).toEqual([replied.body.commentId])
  })
})
