/**
 * A thread's participants (its creator and every comment author, in order), without a walk over the
 * thread for each new comment: the authors of a thread's comments array are read once, then kept
 * from the array's own changes. A comment appended adds its author; anything else (a removal, an
 * insertion before the end) drops what was kept and the next read walks the array again.
 *
 * A comment's `authorId` is set when it is created and never changes (core/guard/rules.ts:
 * "comment field cannot change"), so watching the array alone keeps the list exact.
 */
import * as Y from 'yjs'
import { CommentField, ThreadField } from '../../protocol/index.ts'

/** Authors of a comments array's comments, first appearance first, and how many items were read. */
interface Authors {
  users: Set<string>
  length: number
}

const kept = new WeakMap<Y.Array<unknown>, Authors>()
/** Arrays whose changes update their entry (observed once each; one shared observer). */
const observed = new WeakSet<Y.Array<unknown>>()

const authorOf = (comment: unknown): string | null => {
  const author = comment instanceof Y.Map ? comment.get(CommentField.authorId) : null
  return typeof author === 'string' ? author : null
}

/**
 * Keeps an entry when the array only grew at its end, drops it otherwise. Observers run before
 * `afterTransaction`, where it is read, and inside the writer's transaction: never throws into it.
 */
function onCommentsChanged(event: Y.YArrayEvent<unknown>): void {
  const comments = event.target
  const authors = kept.get(comments)
  if (!authors) return
  try {
    const delta = event.changes.delta
    const first = delta[0]
    const appended =
      delta.length === 2 && first?.retain === authors.length ? delta[1]?.insert : delta.length === 1 && authors.length === 0 ? first?.insert : undefined
    if (!Array.isArray(appended)) {
      kept.delete(comments)
      return
    }
    for (const comment of appended) {
      const author = authorOf(comment)
      if (author !== null) authors.users.add(author)
    }
    authors.length += appended.length
  } catch {
    // Whatever went wrong, the next read walks the array.
    kept.delete(comments)
  }
}

function authorsOf(comments: Y.Array<unknown>): Set<string> {
  const known = kept.get(comments)
  if (known && known.length === comments.length) return known.users
  const users = new Set<string>()
  for (const comment of comments) {
    const author = authorOf(comment)
    if (author !== null) users.add(author)
  }
  kept.set(comments, { users, length: comments.length })
  if (!observed.has(comments)) {
    observed.add(comments)
    comments.observe(onCommentsChanged)
  }
  return users
}

/** The thread's creator and every comment author, in order, each once. */
export function participants(thread: Y.Map<unknown>): string[] {
  const creator = thread.get(ThreadField.createdBy)
  const comments = thread.get(ThreadField.comments)
  const authors = comments instanceof Y.Array ? authorsOf(comments) : new Set<string>()
  if (typeof creator !== 'string' || creator === '') return [...authors]
  return authors.has(creator) && authors.values().next().value === creator ? [...authors] : [creator, ...[...authors].filter((user) => user !== creator)]
}
