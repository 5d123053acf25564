/**
 * The body of a deleted or hidden comment holds no words: `deletedAt` is authoritative for every
 * reader, and a hide's words leave the document. The server empties such a body, whoever deleted
 * or hid the comment (an author's client empties it itself; a moderator's, or a raw client's, may
 * not), and empties it again when words arrive afterwards (an edit its author made before seeing
 * the deletion or the hide: the guard takes it, since it was the author's to make).
 *
 * Restoring a hidden comment's words (unhide) must clear `moderation` in the same transaction as
 * it writes them back, or they are emptied again.
 */
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { CommentField, THREADS } from '../../protocol/index.ts'

/** Origin of the server's own emptying transactions. */
export const EMPTY_DELETED_BODY = Symbol('parley.guard.empty-deleted-body')

/** The body of a deleted or hidden comment, when it holds something. */
function goneWithText(comment: Y.Map<unknown>): Y.Text | null {
  const body = comment.get(CommentField.body)
  const moderation = comment.get(CommentField.moderation)
  const gone = typeof comment.get(CommentField.deletedAt) === 'number' || (typeof moderation === 'object' && moderation !== null)
  return gone && body instanceof Y.Text && body.length > 0 ? body : null
}

/** Watches a document; returns the function that stops watching. */
export function emptyDeletedBodies(doc: Y.Doc, logger: Logger, documentName: string, onError: () => void): () => void {
  const threads = doc.getMap(THREADS)
  const observer = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>) => {
    const bodies = new Set<Y.Text>()
    for (const event of events) {
      // A comment deleted or hidden now.
      if (event instanceof Y.YMapEvent && (event.keysChanged.has(CommentField.deletedAt) || event.keysChanged.has(CommentField.moderation))) {
        const body = event.target instanceof Y.Map ? goneWithText(event.target as Y.Map<unknown>) : null
        if (body) bodies.add(body)
      }
      // Words written into a comment deleted or hidden before.
      if (event instanceof Y.YTextEvent && event.target.parent instanceof Y.Map) {
        const body = goneWithText(event.target.parent as Y.Map<unknown>)
        if (body === event.target) bodies.add(body)
      }
      // Comments created already deleted arrive as whole new maps.
      if (event instanceof Y.YArrayEvent) {
        for (const item of event.changes.added) {
          const comment = item.content instanceof Y.ContentType ? item.content.type : null
          const body = comment instanceof Y.Map ? goneWithText(comment as Y.Map<unknown>) : null
          if (body) bodies.add(body)
        }
      }
    }
    if (bodies.size === 0) return
    // Not inside the observer: the transaction that is ending must finish first.
    queueMicrotask(() => {
      try {
        doc.transact(() => {
          for (const body of bodies) if (body.doc === doc && body.length > 0) body.delete(0, body.length)
        }, EMPTY_DELETED_BODY)
      } catch (error) {
        onError()
        logger.error({ documentName, err: error }, 'could not empty a deleted comment body')
      }
    })
  }
  threads.observeDeep(observer)
  return () => threads.unobserveDeep(observer)
}
