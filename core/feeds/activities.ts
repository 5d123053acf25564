/**
 * The feed activities of one transaction on `comments/<subjectId>`, read from what the
 * transaction changed (core/mentions/diff.ts), synchronously, while the document is as the
 * transaction left it:
 * - a comment created: `thread` when it is the first of its thread, `comment` otherwise; to the
 *   subject's feed and to the `user:` feed of every host and follower but the author;
 * - a reaction added: `reaction`, to the subject's feed and to the comment author's feed when the
 *   author follows or hosts the subject (and is not the one reacting);
 * - a comment deleted: a retraction of the items whose only activity it was.
 * Readers are checked when the activity is fanned out (core/feeds/fanout.ts). `recentComments`
 * reads the comments created since a time as if a transaction had just created them (the rescan
 * when a document loads).
 */
import * as Y from 'yjs'
import { CommentField, readFollowers, REACTION_SEPARATOR, THREADS, subjectFeedId, ThreadField, userFeedId, type FeedPriority } from '../../protocol/index.ts'
import type { CommentTouch, TransactionChanges } from '../mentions/diff.ts'
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
        // One key per comment whatever its type: a rescan after a deletion never records it again as a thread.
        id: `comment:${subjectId}:${commentId}`,
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

/** The comments created at or after `since` (by their `createdAt`) and not deleted, as changes a transaction made. */
export function recentComments(doc: Y.Doc, since: number): TransactionChanges {
  const comments = new Map<Y.Map<unknown>, CommentTouch>()
  for (const thread of doc.getMap(THREADS).values()) {
    const list = thread instanceof Y.Map ? thread.get(ThreadField.comments) : null
    if (!(thread instanceof Y.Map) || !(list instanceof Y.Array)) continue
    for (const comment of list) {
      if (!(comment instanceof Y.Map)) continue
      const createdAt = comment.get(CommentField.createdAt)
      if (typeof createdAt !== 'number' || createdAt < since || typeof comment.get(CommentField.deletedAt) === 'number') continue
      const map = comment as Y.Map<unknown>
      comments.set(map, { thread: thread as Y.Map<unknown>, comment: map, created: true, bodyChanged: false, deleted: false, edited: false, hidden: false })
    }
  }
  return { comments, reactions: [], resolved: [] }
}
