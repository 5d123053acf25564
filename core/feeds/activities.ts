/**
 * The feed activities of one transaction on `comments/<subjectId>`, read from what the
 * transaction changed (core/mentions/diff.ts), synchronously, while the document is as the
 * transaction left it:
 * - a comment created: `thread` when it is the first of its thread, `comment` otherwise; to the
 *   subject's feed and to the `user:` feed of every host and follower but the author;
 * - a reaction added: `reaction`, to the subject's feed and to the comment author's feed when the
 *   author follows or hosts the subject (and is not the one reacting);
 * - a comment deleted: a retraction of the items whose only activity it was.
 * Readers are checked when the activity is fanned out (core/feeds/fanout.ts). `recentActivity`
 * reads the comments created and reactions added since a time as if a transaction had just made
 * them (the rescan when a document loads).
 */
import * as Y from 'yjs'
import {
  CommentField,
  followersMap,
  readFollowers,
  REACTION_SEPARATOR,
  THREADS,
  subjectFeedId,
  ThreadField,
  userFeedId,
  type FeedPriority,
  type FollowerRole,
} from '../../protocol/index.ts'
import type { CommentTouch, ReactionTouch, TransactionChanges } from '../mentions/diff.ts'
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

/** Authors whose feed lists a {@link FollowerCache} keeps at once. */
export const CACHED_AUTHORS = 64

/**
 * A comments document's followers and the feed lists made from them, read once until a
 * transaction changes the followers (10,000 followers take milliseconds to read and sort; a burst
 * of comments reads them once). The lists of one author are one array, shared by the activities.
 */
export class FollowerCache {
  private followers: Readonly<Record<string, FollowerRole>> | null = null
  private readonly lists = new Map<string, string[]>()

  /** Forgets what it read when `tr` changed the followers map. */
  seen(tr: Y.Transaction): void {
    const followers: unknown = followersMap(tr.doc)
    for (const type of tr.changed.keys()) if (type === followers) return this.clear()
  }

  clear(): void {
    this.followers = null
    this.lists.clear()
  }

  of(doc: Y.Doc): Readonly<Record<string, FollowerRole>> {
    this.followers ??= readFollowers(doc)
    return this.followers
  }

  /** The subject's feed, then the `user:` feed of every host and follower but the author, sorted. */
  feeds(doc: Y.Doc, subjectId: string, authorId: string): string[] {
    const cached = this.lists.get(authorId)
    if (cached) return cached
    const users = Object.keys(this.of(doc))
      .filter((userId) => userId !== authorId)
      .sort()
    const list = [subjectFeedId(subjectId), ...users.map(userFeedId)]
    if (this.lists.size >= CACHED_AUTHORS) this.lists.clear()
    this.lists.set(authorId, list)
    return list
  }
}

function base(
  subjectId: string,
  at: number,
): Omit<FeedActivity, 'id' | 'kind' | 'itemId' | 'type' | 'commentId' | 'threadId' | 'actorIds' | 'priority' | 'feeds'> {
  return { subjectId, actorName: null, summary: null, at, checkReaders: true }
}

export function activitiesOf(doc: Y.Doc, subjectId: string, changes: TransactionChanges, at: number, cache = new FollowerCache()): ReadActivity[] {
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
        feeds: cache.feeds(doc, subjectId, authorId),
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
    const toAuthor = authorId !== reactor && cache.of(doc)[authorId] !== undefined
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

/**
 * What was written at or after `since`, as changes a transaction made: the comments created then
 * (by their `createdAt`, not deleted), and the reactions added then (by their time) to comments
 * not deleted.
 */
export function recentActivity(doc: Y.Doc, since: number): TransactionChanges {
  const comments = new Map<Y.Map<unknown>, CommentTouch>()
  const reactions: ReactionTouch[] = []
  for (const thread of doc.getMap(THREADS).values()) {
    const list = thread instanceof Y.Map ? thread.get(ThreadField.comments) : null
    if (!(thread instanceof Y.Map) || !(list instanceof Y.Array)) continue
    for (const comment of list) {
      if (!(comment instanceof Y.Map) || typeof comment.get(CommentField.deletedAt) === 'number') continue
      const map = comment as Y.Map<unknown>
      const createdAt = comment.get(CommentField.createdAt)
      if (typeof createdAt === 'number' && createdAt >= since) {
        comments.set(map, { thread: thread as Y.Map<unknown>, comment: map, created: true, bodyChanged: false, deleted: false, edited: false, hidden: false })
      }
      const added = comment.get(CommentField.reactions)
      if (!(added instanceof Y.Map)) continue
      for (const [key, at] of added.entries()) {
        if (typeof at === 'number' && at >= since) reactions.push({ thread: thread as Y.Map<unknown>, comment: map, key, added: true })
      }
    }
  }
  return { comments, reactions, resolved: [] }
}
