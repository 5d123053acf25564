/**
 * What a document session knows about acknowledged changes across restarts. When every local
 * change is acknowledged (the provider synced, no unsynced change left), the document's state
 * vector is saved in the local store; on the next start the stored updates beyond it are counted
 * as still sending, until the server acknowledges again.
 */
import * as Y from 'yjs'
import type { LocalStore } from './stores/types.ts'

export class Acknowledgements {
  /** Stored updates not acknowledged when the document was loaded; 0 once the server acknowledged. */
  restored = 0
  private readonly store: LocalStore | undefined
  private readonly documentName: string
  private readonly onError: (error: unknown) => void

  constructor(store: LocalStore | undefined, documentName: string, onError: (error: unknown) => void) {
    this.store = store
    this.documentName = documentName
    this.onError = onError
  }

  /** Reads how many stored updates the server has not acknowledged (0 without a store that knows). */
  async load(): Promise<void> {
    this.restored = (await this.store?.unacknowledged?.(this.documentName)) ?? 0
  }

  /**
   * The server holds every change in `doc`: nothing restored is pending any more, and the store
   * learns it. Each save goes to the store at once (stores complete a document's calls in order),
   * so that a close or a clear right after it still finds it queued before them.
   */
  acknowledged(doc: Y.Doc): void {
    this.restored = 0
    this.store?.acknowledge?.(this.documentName, Y.encodeStateVector(doc)).catch(this.onError)
  }

  /** The document is cleared or closed: nothing restored is pending in it. */
  forget(): void {
    this.restored = 0
  }
}
