/** Plain snapshots of comments, read synchronously from the document for the detector. */
import * as Y from 'yjs'
import { CommentField, FOLLOWERS, readRuns, runsToText, THREADS, ThreadField, type FollowerRole } from '../../protocol/index.ts'
import type { CommentSnapshot } from '../notifications/detector.ts'
import { extractMentions } from './extract.ts'
import { participants } from './participants.ts'

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

/** Deleted, or hidden by a moderator. */
export function isGone(comment: Y.Map<unknown>): boolean {
  const moderation = comment.get(CommentField.moderation)
  return typeof comment.get(CommentField.deletedAt) === 'number' || (typeof moderation === 'object' && moderation !== null)
}

/** The thread's `subscribers` map: userId → true (subscribed) or false (muted). */
export function subscribers(thread: Y.Map<unknown>): Record<string, boolean> {
  const out: Record<string, boolean> = {}
  const map = thread.get(ThreadField.subscribers)
  if (map instanceof Y.Map) for (const [userId, on] of map.entries()) if (typeof on === 'boolean') out[userId] = on
  return out
}

/** Each document's `followers` map read once, until it changes (a subject may have 10,000 followers; a comment reads them). */
const followerCache = new WeakMap<Y.Map<unknown>, Readonly<Record<string, FollowerRole>>>()
/** Maps whose changes clear their cache entry (observed once each). */
const observedFollowers = new WeakSet<Y.Map<unknown>>()

/** The subject's hosts and followers (the document's root `followers` map); shared, never to be changed. */
function followers(thread: Y.Map<unknown>): Readonly<Record<string, FollowerRole>> {
  const map = thread.doc?.getMap(FOLLOWERS)
  if (!map) return {}
  const cached = followerCache.get(map)
  if (cached) return cached
  const out: Record<string, FollowerRole> = {}
  for (const [userId, role] of map.entries()) if (role === 'host' || role === 'follower') out[userId] = role
  if (!observedFollowers.has(map)) {
    observedFollowers.add(map)
    // Observers run before `afterTransaction`, where the detector reads: it never sees a stale list.
    map.observe(() => followerCache.delete(map))
  }
  const frozen = Object.freeze(out)
  followerCache.set(map, frozen)
  return frozen
}

function isFirst(thread: Y.Map<unknown>, comment: Y.Map<unknown>): boolean {
  const comments = thread.get(ThreadField.comments)
  return comments instanceof Y.Array && comments.get(0) === comment
}

/** A snapshot of one comment; null when it lacks an id or author (foreign data). `fresh`: its activity is new. */
export function snapshotComment(thread: Y.Map<unknown>, comment: Y.Map<unknown>, fresh: boolean): CommentSnapshot | null {
  const threadId = str(thread.get(ThreadField.id))
  const commentId = str(comment.get(CommentField.id))
  const authorId = str(comment.get(CommentField.authorId))
  if (threadId === null || commentId === null || authorId === null) return null
  const deleted = isGone(comment)
  const body = comment.get(CommentField.body)
  const runs = !deleted && body instanceof Y.Text ? readRuns(body) : []
  let mentions: CommentSnapshot['mentions'] | undefined
  return {
    threadId,
    commentId,
    authorId,
    deleted,
    runs,
    text: runsToText(runs),
    // Read from the runs when detection asks (off the writer's path: a body may hold thousands of handles).
    get mentions() {
      return (mentions ??= extractMentions(runs))
    },
    activity:
      fresh && !deleted
        ? { first: isFirst(thread, comment), participants: participants(thread), subscribers: subscribers(thread), followers: followers(thread) }
        : null,
    fresh,
  }
}

/** Calls `visit` for every comment map of every thread of the document. */
export function forEachComment(doc: Y.Doc, visit: (thread: Y.Map<unknown>, comment: Y.Map<unknown>) => void): void {
  for (const thread of doc.getMap(THREADS).values()) {
    if (!(thread instanceof Y.Map)) continue
    const comments = thread.get(ThreadField.comments)
    if (!(comments instanceof Y.Array)) continue
    for (const comment of comments) if (comment instanceof Y.Map) visit(thread as Y.Map<unknown>, comment as Y.Map<unknown>)
  }
}

/** Every comment of the document (the rescan when a document loads); `isHandled` tells which comments' activity is done. */
export function snapshotAll(doc: Y.Doc, isHandled: (commentId: string) => boolean): CommentSnapshot[] {
  const snapshots: CommentSnapshot[] = []
  forEachComment(doc, (thread, comment) => {
    const id = str(comment.get(CommentField.id))
    const snapshot = id === null ? null : snapshotComment(thread, comment, !isHandled(id))
    if (snapshot) snapshots.push(snapshot)
  })
  return snapshots
}
