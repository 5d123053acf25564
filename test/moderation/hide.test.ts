/**
 * Contract additions, "Moderation": a moderator's hide over REST sets `moderation` on every client
 * at once and moves the words out of the document into storage; an offline replica that edited
 * the comment meanwhile does not bring words back when it syncs (docs/PROTOCOL.md, "Hidden
 * comments and offline edits"); unhide restores the words kept at the hide.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CommentField, createThread, editComment, findComment, getThread, readThreads, type Comment } from '../../protocol/index.ts'
import { rebuild } from '../helpers/comments.ts'
import { connectSynced, acknowledged, type TestClient } from '../helpers/provider.ts'
import { codeOf, rest } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'
import { offlineCopy, registerSubject, startWorld, type World } from '../notifications/setup.ts'

/** "At once": every client sees a hide well within this. */
const DELIVERY_MS = 1_000

const SECRET = 'buy cheap watches here'
const OFFLINE = 'edited while offline'

function commentIn(doc: Y.Doc, threadId: string): Comment | undefined {
  return readThreads(doc).find((t) => t.id === threadId)?.comments[0]
}

/** Whether the words are anywhere in the document's encoded state (deleted content included). */
function holds(doc: Y.Doc, words: string): boolean {
  return Buffer.from(Y.encodeStateAsUpdate(doc)).includes(Buffer.from(words))
}

describe('hide and unhide', () => {
  let world: World
  beforeEach(async () => {
    world = await startWorld()
    await registerSubject(world.s, 'post', ['zoe'])
  })
  afterEach(async () => {
    await world.dispose()
  })

  const as = async (userId: string, json?: unknown) => ({ bearer: await world.s.token(userId, { access: {} }), json })

  it('moves the words out at once, keeps an offline edit from bringing words back, and restores them on unhide', async () => {
    const ana = await world.open('post', 'ana')
    const ben = await world.open('post', 'ben')
    const { threadId, commentId } = createThread({ doc: ana.doc, userId: 'ana' }, SECRET)
    await acknowledged(ana)
    await waitFor(() => commentIn(ben.doc, threadId)?.text === SECRET, 'ben sees the comment')

    // Ana goes offline with a replica and edits the comment there.
    const replica = offlineCopy(ana.doc)
    ana.destroy()
    editComment({ doc: replica, userId: 'ana' }, threadId, commentId, OFFLINE)

    const path = `/api/v1/subjects/post/threads/${threadId}/comments/${commentId}`
    const hidden = await rest<{ moderation: { hiddenBy: string; reason: string } }>(world.s, 'POST', `${path}/hide`, await as('zoe', { reason: 'spam' }))
    expect(hidden.status).toBe(200)
    expect(hidden.body.moderation).toMatchObject({ hiddenBy: 'zoe', reason: 'spam' })
    await waitFor(() => commentIn(ben.doc, threadId)?.moderation?.hiddenBy === 'zoe', 'ben sees the hide', DELIVERY_MS)
    expect(commentIn(ben.doc, threadId)?.text).toBe('')
    expect(await world.s.server.storage.moderation.hidden('post', commentId)).toMatchObject({ authorId: 'ana', runs: [{ text: SECRET }], hiddenBy: 'zoe' })
    // The words left storage's rows too (snapshot and log), not only the state clients receive.
    const rows = await world.s.server.storage.documents.load('comments/post')
    for (const bytes of [rows.snapshot ?? new Uint8Array(), ...rows.log.map((row) => row.data)])
      expect(Buffer.from(bytes).includes(Buffer.from(SECRET))).toBe(false)

    // The replica syncs: its edit is the author's, so the guard takes it, and the server empties it again.
    const back: TestClient = await connectSynced(world.s.server.webSocketUrl, 'comments/post', await world.s.token('ana', { access: {} }), replica)
    world.clients.push(back)
    await acknowledged(back)
    await waitFor(() => commentIn(replica, threadId)?.moderation !== null && replica.getMap('threads').size === 1, 'the replica has the hide')
    await waitFor(() => commentIn(ben.doc, threadId)?.text === '' && commentIn(replica, threadId)?.text === '', 'the offline words are emptied everywhere')

    const newcomer = await world.open('post', 'cid')
    expect(commentIn(newcomer.doc, threadId)).toMatchObject({ text: '', moderation: { hiddenBy: 'zoe', reason: 'spam' } })
    for (const words of [SECRET, OFFLINE]) expect(holds(newcomer.doc, words), words).toBe(false)
    const stored = rebuild(await world.s.server.storage.documents.load('comments/post'))
    expect(commentIn(stored, threadId)?.text).toBe('')
    for (const words of [SECRET, OFFLINE]) expect(holds(stored, words), `stored: ${words}`).toBe(false)
  })

  it('restores the kept words on unhide, on every client at once', async () => {
    const ben = await world.open('post', 'ben')
    const created = await rest<{ threadId: string; commentId: string }>(
      world.s,
      'POST',
      '/api/v1/subjects/post/threads',
      await as('ana', { body: [{ text: SECRET }, { text: ' @Ben', mention: 'ben' }] }),
    )
    const { threadId, commentId } = created.body
    const path = `/api/v1/subjects/post/threads/${threadId}/comments/${commentId}`
    expect((await rest(world.s, 'POST', `${path}/hide`, await as('zoe'))).status).toBe(200)
    await waitFor(() => commentIn(ben.doc, threadId)?.moderation?.reason === '', 'ben sees the hide', DELIVERY_MS)

    const unhidden = await rest<{ moderation: unknown }>(world.s, 'POST', `${path}/unhide`, await as('zoe'))
    expect(unhidden.status).toBe(200)
    expect(unhidden.body.moderation).toBeNull()
    await waitFor(() => commentIn(ben.doc, threadId)?.moderation === null, 'ben sees the unhide', DELIVERY_MS)
    expect(commentIn(ben.doc, threadId)).toMatchObject({ text: `${SECRET} @Ben`, mentions: ['ben'] })
    expect(await world.s.server.storage.moderation.hidden('post', commentId)).toBeNull()

    // The author heard of the hide (the `moderation` kind), once; ben's mention notified once, not again on unhide.
    await waitFor(async () => (await world.notifications('ana')).some((n) => n.kind === 'moderation'), 'ana hears of the hide')
    expect((await world.notifications('ben')).filter((n) => n.kind === 'mention')).toHaveLength(1)
    expect(world.eventsOf('comment.hidden').map((e) => e.data)).toEqual([
      { subjectId: 'post', threadId, commentId, authorId: 'ana', moderatorId: 'zoe', reason: '' },
    ])
    expect(world.eventsOf('comment.unhidden').map((e) => e.data)).toEqual([{ subjectId: 'post', threadId, commentId, authorId: 'ana', moderatorId: 'zoe' }])
    const log = await world.s.server.storage.moderation.listLog('post', { before: null, limit: 10 })
    expect(log.entries.map((e) => [e.action, e.actorId, e.targetUserId, e.commentId])).toEqual([
      ['unhide', 'zoe', 'ana', commentId],
      ['hide', 'zoe', 'ana', commentId],
    ])
  })

  it('keeps the words of a hide made through a socket, whether the client emptied the body or not, so unhide restores them', async () => {
    const ben = await world.open('post', 'ben')
    const zoe = await world.open('post', 'zoe')
    const ana = await world.open('post', 'ana')
    const first = createThread({ doc: ana.doc, userId: 'ana' }, [{ text: 'hey ' }, { text: '@Ben', mention: 'ben' }, { text: ' look' }])
    const second = createThread({ doc: ana.doc, userId: 'ana' }, 'second words')
    await acknowledged(ana)
    await waitFor(() => commentIn(zoe.doc, first.threadId) !== undefined && commentIn(zoe.doc, second.threadId) !== undefined, 'zoe has both')

    // A raw moderator client: sets `moderation` and leaves the words (the server empties them) ...
    const moderation = { hiddenBy: 'zoe', reason: 'socket', at: Date.now() }
    findComment(getThread(zoe.doc, first.threadId), first.commentId).set(CommentField.moderation, moderation)
    // ... or empties the body itself in the same transaction.
    const other = findComment(getThread(zoe.doc, second.threadId), second.commentId)
    zoe.doc.transact(() => {
      other.set(CommentField.moderation, moderation)
      const body = other.get(CommentField.body)
      if (body instanceof Y.Text) body.delete(0, body.length)
    })
    await acknowledged(zoe)
    await waitFor(() => commentIn(ben.doc, first.threadId)?.text === '' && commentIn(ben.doc, second.threadId)?.text === '', 'both hidden at ben')
    await waitFor(async () => (await world.s.server.storage.moderation.hidden('post', second.commentId)) !== null, 'the words are kept')
    expect((await world.s.server.storage.moderation.hidden('post', first.commentId))?.runs).toEqual([
      { text: 'hey ' },
      { text: '@Ben', mention: 'ben' },
      { text: ' look' },
    ])
    expect((await world.s.server.storage.moderation.hidden('post', second.commentId))?.runs).toEqual([{ text: 'second words' }])

    for (const { threadId, commentId } of [first, second]) {
      expect((await rest(world.s, 'POST', `/api/v1/subjects/post/threads/${threadId}/comments/${commentId}/unhide`, await as('zoe'))).status).toBe(200)
    }
    await waitFor(
      () => commentIn(ben.doc, first.threadId)?.text === 'hey @Ben look' && commentIn(ben.doc, second.threadId)?.text === 'second words',
      'the words are back',
    )
    expect(commentIn(ben.doc, first.threadId)?.mentions).toEqual(['ben'])
  })

  it('refuses hides by non-moderators, of unknown comments, and of deleted ones', async () => {
    const created = await rest<{ threadId: string; commentId: string }>(world.s, 'POST', '/api/v1/subjects/post/threads', await as('ana', { body: 'x' }))
    const { threadId, commentId } = created.body
    const path = `/api/v1/subjects/post/threads/${threadId}/comments`
    expect((await rest(world.s, 'DELETE', `${path}/${commentId}`, await as('ana'))).status).toBe(204)
    const other = await rest<{ commentId: string }>(world.s, 'POST', `${path}`, await as('ana', { body: 'y' }))
    const answers = [
      await rest(world.s, 'POST', `${path}/${other.body.commentId}/hide`, await as('ben', { reason: 'no' })),
      await rest(world.s, 'POST', `${path}/nope/hide`, await as('zoe')),
      await rest(world.s, 'POST', `${path}/${commentId}/hide`, await as('zoe')),
      await rest(world.s, 'POST', `${path}/${other.body.commentId}/unhide`, await as('ben')),
    ]
    expect(answers.map((a) => [a.status, codeOf(a)])).toEqual([
      [403, 'forbidden'],
      [404, 'not_found'],
      [409, 'comment_deleted'],
      [403, 'forbidden'],
    ])
  })
})
