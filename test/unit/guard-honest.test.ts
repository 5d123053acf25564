/**
 * The write guard's checker in process: honest writes of protocol/comments/write.ts are accepted,
 * also when they race a comment's deletion or hide.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import type * as Y from 'yjs'
import {
  createThread,
  deleteComment,
  editComment,
  markRead,
  react,
  reply,
  setFollowing,
  setResolved,
  setSubscription,
  unreact,
  type WriteContext,
} from '../../protocol/index.ts'
import { type GuardedDoc, type Actor } from './guard-fixture.ts'
import { ana, ben, docOf, mallory, mod, setUp, T, targetsIn, type Targets } from './guard-world.ts'

describe('PROTOCOL §Write guard: writes racing a comment’s deletion or hide are taken when they were the writer’s to make', () => {
  let server: GuardedDoc
  let ownDeletedId: string
  beforeEach(() => {
    ;({ server, ownDeletedId } = setUp())
  })
  const hide = (comment: Y.Map<unknown>, by: string) => comment.set('moderation', { hiddenBy: by, reason: 'spam', at: T + 50 })

  it.each<[string, Actor, (targets: Targets) => void]>([
    [
      'words of its author written into her deleted comment (the server empties them again)',
      mallory,
      ({ ownDeleted }) => (ownDeleted.get('body') as Y.Text).insert(0, 'late edit'),
    ],
    ['her edit’s editedAt', mallory, ({ ownDeleted }) => ownDeleted.set('editedAt', T + 60)],
    ['her second deletion', mallory, ({ ownDeleted }) => ownDeleted.set('deletedAt', T + 60)],
    [
      'a moderator’s hide of it (deletedAt and moderation)',
      mod,
      ({ ownDeleted }) =>
        docOf(ownDeleted).transact(() => {
          ownDeleted.set('deletedAt', T + 60)
          hide(ownDeleted, 'mod')
        }),
    ],
  ])('takes %s', (_name, actor, write) => {
    expect(
      server.check(
        actor,
        server.updateOf((doc) => write(targetsIn(doc, ownDeletedId))),
      ),
    ).toMatchObject({ ok: true })
  })

  it('takes words its author writes into her comment a moderator hid meanwhile', () => {
    expect(
      server.accept(
        mod,
        server.updateOf((doc) => hide(targetsIn(doc, ownDeletedId).anasComment, 'mod')),
      ),
    ).toMatchObject({ ok: true })
    const edit = server.updateOf((doc) => editComment({ doc, userId: 'ana', now: () => T + 70 }, 't1', 'c1', 'edited before seeing the hide'))
    expect(server.check(ana, edit)).toMatchObject({ ok: true })
  })
})

describe('PROTOCOL §Write guard, §Comment document schema: honest writes of protocol/comments/write.ts are accepted', () => {
  let server: GuardedDoc
  beforeEach(() => {
    ;({ server } = setUp())
  })

  const HONEST: Array<[string, Actor, (ctx: WriteContext) => void]> = [
    [
      'a thread with mentions and metadata',
      ben,
      (ctx) => createThread(ctx, [{ text: 'hi ' }, { text: '@Ana', mention: 'ana' }, { text: ' @zoë' }], { anchor: 'p3', line: 12, done: false, note: null }),
    ],
    ['a reply', ben, (ctx) => reply(ctx, 't1', 'agreed')],
    ['a reply to a comment', ben, (ctx) => reply(ctx, 't1', 'to you', 'c1')],
    ['an edit of one’s own comment', ana, (ctx) => editComment(ctx, 't1', 'c1', [{ text: 'now with ' }, { text: '@Ben', mention: 'ben' }])],
    ['a deletion of one’s own comment', ana, (ctx) => deleteComment(ctx, 't1', 'c1')],
    ['a reaction', ben, (ctx) => react(ctx, 't1', 'c1', '🎉')],
    ['a reaction removed', ana, (ctx) => unreact(ctx, 't1', 'c1', '👍')],
    ['a thread resolved', ben, (ctx) => setResolved(ctx, 't1', true)],
    ['a thread reopened', ben, (ctx) => setResolved(ctx, 't1', false)],
    ['a read marker', ben, (ctx) => markRead(ctx, 't1')],
    ['a subscription', ben, (ctx) => setSubscription(ctx, 't1', true)],
    ['a thread muted', ana, (ctx) => setSubscription(ctx, 't1', false)],
    ['following', ben, (ctx) => setFollowing(ctx, true)],
    ['unfollowing', ana, (ctx) => setFollowing(ctx, false)],
  ]

  it.each(HONEST)('accepts %s', (_name, actor, write) => {
    const ctx = (doc: Y.Doc): WriteContext => ({ doc, userId: actor.userId, now: () => T + 10_000 })
    expect(
      server.accept(
        actor,
        server.updateOf((doc) => write(ctx(doc))),
      ),
    ).toMatchObject({ ok: true })
  })

  it('accepts a whole offline session of one user as one update (sync step 2)', () => {
    const replica = server.replica()
    const update = server.updateOf((doc) => {
      const ctx = { doc, userId: 'ben', now: () => T + 20_000 }
      const { threadId, commentId } = createThread(ctx, 'offline thread')
      const second = reply(ctx, threadId, 'and more', commentId).commentId
      editComment(ctx, threadId, second, 'and more, edited')
      react(ctx, threadId, commentId, '👀')
      unreact(ctx, threadId, commentId, '👀')
      deleteComment(ctx, threadId, second)
      setResolved(ctx, threadId, true)
      markRead(ctx, 't1')
    }, replica)
    expect(server.accept(ben, update)).toMatchObject({ ok: true })
    // The client id is now ben's: mallory may not write under it.
    expect(server.clients.ownerOf(replica.clientID)).toBe('ben')
  })

  it('accepts an edit that reaches the server after the same device deleted the comment (words deleted in the same update)', () => {
    const update = server.updateOf((doc) => {
      const ctx = { doc, userId: 'ana', now: () => T + 30_000 }
      editComment(ctx, 't1', 'c1', 'changed my mind')
      deleteComment(ctx, 't1', 'c1')
    })
    expect(server.accept(ana, update)).toMatchObject({ ok: true })
  })
})
