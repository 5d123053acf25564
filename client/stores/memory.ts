/** A local store in memory: it survives closing a subject or a client, not the process. */
import * as Y from 'yjs'
import type { LocalStore } from './types.ts'

export class MemoryStore implements LocalStore {
  private readonly docs = new Map<string, Uint8Array[]>()

  async load(documentName: string): Promise<Uint8Array | null> {
    const updates = this.docs.get(documentName)
    return updates?.length ? Y.mergeUpdates(updates) : null
  }

  async append(documentName: string, update: Uint8Array): Promise<void> {
    const updates = this.docs.get(documentName) ?? []
    updates.push(update)
    this.docs.set(documentName, updates)
  }

  async clear(documentName: string): Promise<void> {
    this.docs.delete(documentName)
  }

  async close(): Promise<void> {}
}
