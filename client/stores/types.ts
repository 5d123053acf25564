/**
 * A local store keeps each document's updates on the device, so that edits made offline survive
 * an app restart and sync on the next start. Implementations: file (Node, mobile-like runtimes),
 * IndexedDB (browsers), memory (tests and ephemeral clients).
 */
export interface LocalStore {
  /** Every update stored for the document, merged into one; `null` when there is none. */
  load(documentName: string): Promise<Uint8Array | null>
  /** Stores an update. Calls for one document (`acknowledge` and `clear` too) complete in order. */
  append(documentName: string, update: Uint8Array): Promise<void>
  /** Forgets a document (used to roll back to the server's state), its acknowledged state too. */
  clear(documentName: string): Promise<void>
  /** Waits for pending writes and releases resources. */
  close(): Promise<void>
  /**
   * Optional (a store without it reports nothing pending after a restart): remembers that the
   * server holds the document up to `stateVector` (a Yjs state vector), replacing the last one.
   */
  acknowledge?(documentName: string, stateVector: Uint8Array): Promise<void>
  /**
   * Optional, with `acknowledge`: how many stored updates hold changes (clocks) beyond the last
   * acknowledged state vector, every stored update with a change when none was saved.
   * (stores/acknowledged.ts `countUnacknowledged` does the counting).
   */
  unacknowledged?(documentName: string): Promise<number>
}
