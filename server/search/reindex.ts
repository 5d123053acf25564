/**
 * Rebuilds the search index from stored documents (`parley reindex [subjectId]`): for each
 * comments document, its snapshot and log are read into a Yjs document, every findable comment
 * replaces the subject's entries, and the index mark moves to the head read before loading.
 *
 * Safe to run while a server runs on the same storage, with one caveat: a comment written to a
 * subject while that subject is being rebuilt may miss the index until its document next loads.
 */
import * as Y from 'yjs'
import { commentsDocumentName, parseDocumentName } from '../../protocol/index.ts'
import { entriesOf } from '../../core/search/indexing.ts'
import type { Storage } from '../../core/storage/types.ts'

export interface ReindexProgress {
  /** Documents done so far, and in all. */
  done: number
  total: number
  documentName: string
  /** Entries the document now has in the index. */
  entries: number
}

export interface ReindexResult {
  documents: number
  entries: number
}

/** Loads a stored document (snapshot, then log rows in order). */
async function loadStored(storage: Storage, name: string): Promise<Y.Doc> {
  const stored = await storage.documents.load(name)
  const doc = new Y.Doc()
  if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
  for (const row of stored.log) Y.applyUpdate(doc, row.data)
  return doc
}

/** Rebuilds one subject's index, or every written subject's when `subjectId` is null. */
export async function reindex(storage: Storage, subjectId: string | null, onProgress?: (progress: ReindexProgress) => void): Promise<ReindexResult> {
  const names = subjectId === null ? await storage.search.commentDocuments() : [commentsDocumentName(subjectId)]
  let entries = 0
  for (const [index, name] of names.entries()) {
    const parsed = parseDocumentName(name)
    if (parsed?.kind !== 'comments') continue
    const head = await storage.notifications.documentHead(name)
    const doc = await loadStored(storage, name)
    const found = entriesOf(parsed.id, doc)
    doc.destroy()
    await storage.search.replaceSubject(parsed.id, found)
    if (head > 0) await storage.search.setMark(name, head)
    entries += found.length
    onProgress?.({ done: index + 1, total: names.length, documentName: name, entries: found.length })
  }
  return { documents: names.length, entries }
}
