/** Writes contract-shaped threads and comments with raw Yjs (the schema module replaces this). */
import * as Y from 'yjs'

export function addThread(doc: Y.Doc, threadId: string, userId: string): Y.Map<unknown> {
  const thread = new Y.Map<unknown>()
  doc.transact(() => {
    thread.set('id', threadId)
    thread.set('createdBy', userId)
    thread.set('createdAt', Date.now())
    thread.set('comments', new Y.Array())
    thread.set('subscribers', new Y.Map())
    thread.set('readBy', new Y.Map())
    thread.set('metadata', new Y.Map())
    doc.getMap('threads').set(threadId, thread)
  })
  return thread
}

export function addComment(doc: Y.Doc, threadId: string, commentId: string, userId: string, text: string): void {
  const thread = doc.getMap('threads').get(threadId)
  if (!(thread instanceof Y.Map)) throw new Error(`no thread ${threadId}`)
  const comments = thread.get('comments')
  if (!(comments instanceof Y.Array)) throw new Error(`thread ${threadId} has no comments`)
  doc.transact(() => {
    const comment = new Y.Map<unknown>()
    comment.set('id', commentId)
    comment.set('authorId', userId)
    comment.set('createdAt', Date.now())
    comment.set('body', new Y.Text(text))
    comment.set('reactions', new Y.Map())
    comments.push([comment])
  })
}

export function commentTexts(doc: Y.Doc, threadId: string): string[] {
  const thread = doc.getMap('threads').get(threadId)
  if (!(thread instanceof Y.Map)) return []
  const comments = thread.get('comments')
  if (!(comments instanceof Y.Array)) return []
  return comments.toArray().map((c) => (c instanceof Y.Map ? String(c.get('body')) : ''))
}

/** Rebuilds a document from what storage holds (snapshot, then log). */
export function rebuild(stored: { snapshot: Uint8Array | null; log: Array<{ data: Uint8Array }> }): Y.Doc {
  const doc = new Y.Doc()
  if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
  for (const row of stored.log) Y.applyUpdate(doc, row.data)
  return doc
}
