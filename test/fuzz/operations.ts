/**
 * Honest operations of the fuzz: what a user's SDK does, through protocol/comments/write.ts, on
 * targets the replica can see. Every choice comes from two numbers drawn by the driver, so that an
 * action replays the same on the same state (and does nothing when its target is not there).
 */
import * as prng from 'lib0/prng'
import * as Y from 'yjs'
import {
  CommentField,
  createThread,
  deleteComment,
  editComment,
  findComment,
  followersMap,
  getThread,
  markRead,
  react,
  readFollowers,
  readThreads,
  reply,
  setFollowing,
  setResolved,
  setSubscription,
  unreact,
  type BodyRun,
  type Comment,
  type Thread,
  type WriteContext,
} from '../../protocol/index.ts'

export const OPERATIONS = [
  'createThread',
  'reply',
  'edit',
  'delete',
  'react',
  'unreact',
  'resolve',
  'reopen',
  'markRead',
  'subscribe',
  'mute',
  'follow',
  'unfollow',
  'hide',
  'host',
] as const

export type Operation = (typeof OPERATIONS)[number]

/** Users the bodies mention (by attribute, or as `@handle` text). */
const PEOPLE = ['ana', 'ben', 'cid', 'mod']
const EMOJIS = ['👍', '🎉', '❤️', '👀']
const WORDS = ['looks', 'good', 'why', 'not', 'ship', 'it', 'later', 'agreed', 'hmm', 'done', 'zoë', '小明', 'ok?']

/** Transaction origin of a moderator's hide or host change (raw Yjs: the schema module has no moderation writer). */
export const MODERATE = Symbol('fuzz.moderate')

function pick<T>(list: readonly T[], n: number): T | undefined {
  return list.length === 0 ? undefined : list[n % list.length]
}

/** A body drawn from `seed`: words, attribute mentions and `@handle` text. */
export function bodyFrom(seed: number): BodyRun[] {
  const gen = prng.create(seed)
  const runs: BodyRun[] = []
  const count = prng.int32(gen, 1, 5)
  for (let i = 0; i < count; i++) {
    const kind = prng.int32(gen, 0, 5)
    if (kind === 0) {
      const who = prng.oneOf(gen, PEOPLE)
      runs.push({ text: `@${who}`, mention: who })
    } else if (kind === 1) {
      runs.push({ text: ` @${prng.oneOf(gen, PEOPLE)} ` })
    } else {
      runs.push({ text: `${prng.oneOf(gen, WORDS)} ` })
    }
  }
  return runs
}

function allComments(threads: readonly Thread[]): Array<{ thread: Thread; comment: Comment }> {
  return threads.flatMap((thread) => thread.comments.map((comment) => ({ thread, comment })))
}

/**
 * Performs `operation` as the context's user on the replica's document. Returns a description of
 * what it did, or null when the replica has no target for it (or the role does not allow it).
 * A refusal by the writer (ParleyError) is thrown: targets are chosen so that none is expected.
 */
export function perform(ctx: WriteContext & { moderator: boolean }, operation: Operation, a: number, b: number): string | null {
  const { doc, userId } = ctx
  const threads = readThreads(doc)
  const thread = pick(threads, a)
  const live = allComments(threads).filter(({ comment }) => comment.deletedAt === null)
  const own = live.filter(({ comment }) => comment.authorId === userId)
  switch (operation) {
    case 'createThread': {
      const { threadId } = createThread(ctx, bodyFrom(a), b % 3 === 0 ? { anchor: `p${b % 7}` } : {})
      return `createThread ${threadId}`
    }
    case 'reply': {
      if (!thread) return null
      const parent = b % 2 === 0 ? pick(thread.comments, b) : undefined
      const { commentId } = reply(ctx, thread.id, bodyFrom(b), parent?.id)
      return `reply ${thread.id}/${commentId}${parent ? ` to ${parent.id}` : ''}`
    }
    case 'edit': {
      const target = pick(own, a)
      if (!target) return null
      editComment(ctx, target.thread.id, target.comment.id, bodyFrom(b))
      return `edit ${target.thread.id}/${target.comment.id}`
    }
    case 'delete': {
      const target = pick(own, a)
      if (!target) return null
      deleteComment(ctx, target.thread.id, target.comment.id)
      return `delete ${target.thread.id}/${target.comment.id}`
    }
    case 'react': {
      const target = pick(allComments(threads), a)
      const emoji = pick(EMOJIS, b)
      if (!target || !emoji) return null
      react(ctx, target.thread.id, target.comment.id, emoji)
      return `react ${target.thread.id}/${target.comment.id} ${emoji}`
    }
    case 'unreact': {
      const mine = allComments(threads).flatMap(({ thread: t, comment }) =>
        comment.reactions.filter((r) => r.userIds.includes(userId)).map((r) => ({ thread: t, comment, emoji: r.emoji })),
      )
      const target = pick(mine, a)
      if (!target) return null
      unreact(ctx, target.thread.id, target.comment.id, target.emoji)
      return `unreact ${target.thread.id}/${target.comment.id} ${target.emoji}`
    }
    case 'resolve':
    case 'reopen':
      if (!thread) return null
      setResolved(ctx, thread.id, operation === 'resolve')
      return `${operation} ${thread.id}`
    case 'markRead':
      if (!thread) return null
      markRead(ctx, thread.id)
      return `markRead ${thread.id}`
    case 'subscribe':
    case 'mute':
      if (!thread) return null
      setSubscription(ctx, thread.id, operation === 'subscribe')
      return `${operation} ${thread.id}`
    case 'follow':
    case 'unfollow':
      if (readFollowers(doc)[userId] === 'host') return null
      setFollowing(ctx, operation === 'follow')
      return operation
    case 'hide': {
      // A moderator hides another user's comment: deletedAt and moderation together; the words
      // are removed by the moderator (when b is even) or else by the server.
      if (!ctx.moderator) return null
      const target = pick(
        live.filter(({ comment }) => comment.authorId !== userId),
        a,
      )
      if (!target) return null
      const comment = findComment(getThread(doc, target.thread.id), target.comment.id)
      const at = (ctx.now ?? Date.now)()
      doc.transact(() => {
        comment.set(CommentField.deletedAt, at)
        comment.set(CommentField.moderation, { hiddenBy: userId, reason: 'fuzz', at })
        const body = comment.get(CommentField.body)
        if (b % 2 === 0 && body instanceof Y.Text) body.delete(0, body.length)
      }, MODERATE)
      return `hide ${target.thread.id}/${target.comment.id}${b % 2 === 0 ? ' (words removed)' : ''}`
    }
    case 'host': {
      // A moderator makes another user a host (b even), or takes it back.
      const other = pick(
        PEOPLE.filter((person) => person !== userId),
        a,
      )
      if (!ctx.moderator || !other) return null
      const followers = followersMap(doc)
      if (b % 2 !== 0 && followers.get(other) !== 'host') return null
      doc.transact(() => (b % 2 === 0 ? followers.set(other, 'host') : followers.delete(other)), MODERATE)
      return `${b % 2 === 0 ? 'host' : 'unhost'} ${other}`
    }
  }
}
