/**
 * The feed activities of one transaction on `comments/<subjectId>`, read from what the
 * transaction changed (core/mentions/diff.ts), synchronously, while the document is as the
 * transaction left it:
 * - a comment created: `thread` when it is the first of its thread, `comment` otherwise; to the
 *   subject's feed and to the `user:` feed of every host and follower but the author;
 * - a reaction added: `reaction`, to the subject's feed and to the comment author's feed when the
 *   author follows or hosts the subject (and is not the one reacting);
 * - a comment deleted: a retraction of the items whose only activity it was.
 * Readers are checked when the activity is fanned out (core/feeds/fanout.ts).
 */
import * as Y from 'yjs'
import { CommentField, readFollowers, REACTION_SEPARATOR, subjectFeedId, ThreadField, userFeedId, type FeedPriority } from '../../protocol/index.ts'
import type { TransactionChanges } from '../mentions/diff.ts'
import type { FeedActivity } from './aggregate.ts'

/** Priority of each activity type (its batching window). */
export const ACTIVITY_PRIORITY: Readonly<Record<'thread' | 'comment' | 'reaction', FeedPriority>> = { thread: 'high', comment: 'medium', reaction: 'low' }

/** An activity and, for comments, who wrote it (counted for trending). */
export interface ReadActivity {
  activity: FeedActivity
  commenter: string | null
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

function isFirst(thread: Y.Map<unknown>, comment: Y.Map<unknown>): boolean {
  const comments = thread.get(ThreadField.comments)
  return comments instanceof Y.Array && comments.get(0) === comment
}

function base(
  subjectId: string,
  at: number,
): Omit<FeedActivity, 'id' | 'kind' | 'itemId' | 'type' | 'commentId' | 'threadId' | 'actorIds' | 'priority' | 'feeds'> {
  return { subjectId, actorName: null, summary: null, at, checkReaders: true }
}

export function activitiesOf(doc: Y.Doc, subjectId: string, changes: TransactionChanges, at: number): ReadActivity[] {
  const followers = readFollowers(doc)
  const subjectFeed = subjectFeedId(subjectId)
  const out: ReadActivity[] = []
  for (const touch of changes.comments.values()) {
    const threadId = str(touch.thread.get(ThreadField.id))
    const commentId = str(touch.comment.get(CommentField.id))
    const authorId = str(touch.comment.get(CommentField.authorId))
    if (threadId === null || commentId === null || authorId === null) continue
    const deleted = typeof touch.comment.get(CommentField.deletedAt) === 'number'
    if (deleted && !touch.created) {
      const id = `delete:${subjectId}:${commentId}`
      out.push({
        activity: {
          ...base(subjectId, at),
          id,
          kind: 'retract',
          itemId: id,
          type: 'comment',
          threadId,
          commentId,
          actorIds: [authorId],
          priority: 'medium',
          feeds: [],
        },
        commenter: null,
      })
      continue
    }
    if (!touch.created || deleted) continue
    const type = isFirst(touch.thread, touch.comment) ? 'thread' : 'comment'
    const users = Object.keys(followers)
      .filter((userId) => userId !== authorId)
      .sort()
    out.push({
      activity: {
        ...base(subjectId, at),
        id: `${type}:${subjectId}:${commentId}`,
        kind: 'add',
        itemId: `${type}:${commentId}`,
        type,
        threadId,
        commentId,
        actorIds: [authorId],
        priority: ACTIVITY_PRIORITY[type],
        feeds: [subjectFeed, ...users.map(userFeedId)],
      },
      commenter: authorId,
    })
  }
  for (const reaction of changes.reactions) {
    if (!reaction.added) continue
    const threadId = str(reaction.thread.get(ThreadField.id))
    const commentId = str(reaction.comment.get(CommentField.id))
    const authorId = str(reaction.comment.get(CommentField.authorId))
    const reactor = reaction.key.slice(reaction.key.lastIndexOf(REACTION_SEPARATOR) + 1)
    if (threadId === null || commentId === null || authorId === null || reactor === '') continue
    const toAuthor = authorId !== reactor && followers[authorId] !== undefined
    out.push({
      activity: {
        ...base(subjectId, at),
        id: `reaction:${subjectId}:${commentId}:${reaction.key}`,
        kind: 'add',
        itemId: `reaction:${commentId}:${reaction.key}`,
        type: 'reaction',
        threadId,
        commentId,
        actorIds: [reactor],
        priority: ACTIVITY_PRIORITY.reaction,
        feeds: toAuthor ? [subjectFeed, userFeedId(authorId)] : [subjectFeed],
      },
      commenter: null,
    })
  }
  return out
}
