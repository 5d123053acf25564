/**
 * The one storage interface every backend implements (SQLite now, PostgreSQL next).
 * Everything is asynchronous so that a networked backend fits without redesign.
 *
 * A document is a snapshot plus an append-only log of updates. Compaction merges the snapshot
 * and the log rows *as read from storage* (never the in-memory document, which can lack pending
 * structs) and replaces them with one snapshot, atomically.
 */

/** One row of a document's update log. `seq` grows strictly within a document. */
export interface LogRow {
  seq: number
  data: Uint8Array
}

export interface StoredDocument {
  snapshot: Uint8Array | null
  /** Log rows appended after the snapshot, in `seq` order. */
  log: LogRow[]
}

export interface CompactionResult {
  /** Log rows merged into the new snapshot (0: nothing to do). */
  mergedRows: number
  /** Size of the new snapshot in bytes. */
  snapshotBytes: number
}

/** Merges updates into one (Yjs `mergeUpdates`); passed in so storage stays free of Yjs. */
export type MergeUpdates = (updates: Uint8Array[]) => Uint8Array

export interface DocumentStore {
  /** The snapshot and log of a document; an empty one when it was never written. */
  load(name: string): Promise<StoredDocument>
  /** Appends an update durably; resolves with its `seq` only once it would survive `kill -9`. */
  append(name: string, update: Uint8Array): Promise<number>
  /** Merges snapshot and log into a new snapshot, safely against concurrent appends and compactions. */
  compact(name: string, merge: MergeUpdates): Promise<CompactionResult>
  /** Moves a log row that cannot be applied out of the log, keeping it with the reason for inspection. */
  quarantine(name: string, seq: number, reason: string): Promise<void>
  /** Rows set aside by {@link quarantine}, oldest first. */
  listQuarantined(name: string): Promise<Array<LogRow & { reason: string }>>
}

export interface Storage {
  /** Which backend this is, for logs and `/ready`. */
  readonly kind: 'sqlite' | 'postgres'
  readonly documents: DocumentStore
  /** Resolves when the backend answers a trivial query; rejects with the reason otherwise. */
  ping(): Promise<void>
  /** Finishes pending work and releases the backend. Further calls fail. */
  close(): Promise<void>
}
