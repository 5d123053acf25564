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
  /** The latest state vector waiting to be saved; saves run one at a time, the newest wins. */
  private next: Uint8Array | null = null
  private saving = false

  constructor(store: LocalStore | undefined, documentName: string, onError: (error: unknown) => void) {
    this.store = store
    this.documentName = documentName
    this.onError = onError
  }

  /** Reads how many stored updates the server has not acknowledged (0 without a store that knows). */
  async load(): Promise<void> {
    this.restored = (await this.store?.unacknowledged?.(this.documentName)) ?? 0
  }

  /** The server holds every change in `doc`: nothing restored is pending any more, and the store learns it. */
  acknowledged(doc: Y.Doc): void {
    this.restored = 0
    if (!this.store?.acknowledge) return
    this.next = Y.encodeStateVector(doc)
    if (!this.saving) void this.flush(this.store)
  }

  private async flush(store: LocalStore): Promise<void> {
    this.saving = true
    for (let vector = this.next; vector !== null; vector = this.next) {
      this.next = null
      try {
        await store.acknowledge?.(this.documentName, vector)
      } catch (error) {
        this.onError(error)
      }
    }
    this.saving = false
  }

  /** Drops a save not started yet (the document is cleared or closed); one in progress completes. */
  cancel(): void {
    this.next = null
    this.restored = 0
  }
}
