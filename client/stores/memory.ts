/** A local store in memory: it survives closing a subject or a client, not the process. */
import * as Y from 'yjs'
import { countUnacknowledged } from './acknowledged.ts'
import type { LocalStore } from './types.ts'

export class MemoryStore implements LocalStore {
  private readonly docs = new Map<string, Uint8Array[]>()
  private readonly acknowledged = new Map<string, Uint8Array>()

  async load(documentName: string): Promise<Uint8Array | null> {
    const updates = this.docs.get(documentName)
    return updates?.length ? Y.mergeUpdates(updates) : null
  }

  async append(documentName: string, update: Uint8Array): Promise<void> {
    const updates = this.docs.get(documentName) ?? []
    updates.push(update)
    this.docs.set(documentName, updates)
  }

  async acknowledge(documentName: string, stateVector: Uint8Array): Promise<void> {
    this.acknowledged.set(documentName, stateVector)
  }

  async unacknowledged(documentName: string): Promise<number> {
    return countUnacknowledged(this.docs.get(documentName) ?? [], this.acknowledged.get(documentName) ?? null)
  }

  async clear(documentName: string): Promise<void> {
    this.docs.delete(documentName)
    this.acknowledged.delete(documentName)
  }

  async close(): Promise<void> {}
}
