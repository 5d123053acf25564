/**
 * Reading documents for REST: from memory when this instance has the document loaded, otherwise
 * through a direct connection, which loads it from storage. The document then stays loaded until
 * Hocuspocus's debounced store unloads it (as after a socket closes), so that a client polling a
 * big document does not load it from storage for every request.
 */
import type { Hocuspocus } from '@hocuspocus/server'
import type * as Y from 'yjs'
import { commentsDocumentName } from '../../protocol/index.ts'
import type { Storage } from '../../core/storage/types.ts'

/** Runs `read` on the document's current state. Rejects when the document cannot be loaded. */
export async function readDocument<T>(hocuspocus: Hocuspocus, documentName: string, read: (document: Y.Doc) => T): Promise<T> {
  const loaded = hocuspocus.documents.get(documentName)
  if (loaded) return read(loaded)
  const connection = await hocuspocus.openDirectConnection(documentName, {})
  try {
    if (!connection.document) throw new Error(`direct connection to ${documentName} has no document`)
    return read(connection.document)
  } finally {
    await connection.disconnect({ unloadImmediately: false })
  }
}

/**
 * A subject exists when the backend registered it (a default role or a member was set) or when
 * its document was ever written (every write is stored before it is applied). Opening a document
 * without writing to it does not make a subject exist, so every instance answers the same.
 */
export async function subjectExists(storage: Storage, subjectId: string): Promise<boolean> {
  const [subject, stored] = await Promise.all([storage.subjects.get(subjectId), storage.documents.exists(commentsDocumentName(subjectId))])
  return subject !== null || stored
}
