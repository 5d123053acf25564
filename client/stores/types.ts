/**
 * A local store keeps each document's updates on the device, so that edits made offline survive
 * an app restart and sync on the next start. Implementations: file (Node, mobile-like runtimes),
 * IndexedDB (browsers), memory (tests and ephemeral clients).
 */
export interface LocalStore {
  /** Every update stored for the document, merged into one; `null` when there is none. */
  load(documentName: string): Promise<Uint8Array | null>
  /** Stores an update. Calls for one document complete in order. */
  append(documentName: string, update: Uint8Array): Promise<void>
  /** Forgets a document (used to roll back to the server's state). */
  clear(documentName: string): Promise<void>
  /** Waits for pending writes and releases resources. */
  close(): Promise<void>
}
