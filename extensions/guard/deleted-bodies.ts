/**
 * `deletedAt` is authoritative: once a comment is deleted the server empties its body, whoever
 * set it (an author's client empties it itself; a moderator's, or a raw client's, may not).
 */
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { CommentField, THREADS } from '../../protocol/index.ts'

/** Origin of the server's own emptying transactions. */
export const EMPTY_DELETED_BODY = Symbol('parley.guard.empty-deleted-body')

function deletedWithText(comment: Y.Map<unknown>): Y.Text | null {
  const body = comment.get(CommentField.body)
  const deletedAt = comment.get(CommentField.deletedAt)
  return typeof deletedAt === 'number' && body instanceof Y.Text && body.length > 0 ? body : null
}

/** Watches a document; returns the function that stops watching. */
export function emptyDeletedBodies(doc: Y.Doc, logger: Logger, documentName: string, onError: () => void): () => void {
  const threads = doc.getMap(THREADS)
  const observer = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>) => {
    const bodies: Y.Text[] = []
    for (const event of events) {
      if (!(event instanceof Y.YMapEvent) || !event.keysChanged.has(CommentField.deletedAt)) continue
      const body = event.target instanceof Y.Map ? deletedWithText(event.target as Y.Map<unknown>) : null
      if (body) bodies.push(body)
    }
    // Comments created already deleted arrive as whole new maps.
    for (const event of events) {
      if (!(event instanceof Y.YArrayEvent)) continue
      for (const item of event.changes.added) {
        const comment = item.content instanceof Y.ContentType ? item.content.type : null
        const body = comment instanceof Y.Map ? deletedWithText(comment as Y.Map<unknown>) : null
        if (body) bodies.push(body)
      }
    }
    if (bodies.length === 0) return
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
