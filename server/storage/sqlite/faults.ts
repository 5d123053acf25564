/**
 * Test-only fault point of SQLite's group commit (`PARLEY_FAULT`, like core/notifications/faults.ts):
 * the process kills itself (SIGKILL) inside a group's transaction, after its rows were inserted and
 * before the commit, so a crash test can show that no append of that group was acknowledged and
 * none of its rows is stored after the restart. The storage only runs the hook it is given.
 */
import type { BeforeCommit } from './group-commit.ts'

export const STORAGE_FAULT_POINTS = [
  /** A group of appends is inserted in its transaction, not committed, none acknowledged. */
  'log-before-commit',
] as const

export type StorageFaultPoint = (typeof STORAGE_FAULT_POINTS)[number]

/**
 * Documents a group must hold appends of for `log-before-commit` to fire: the groups before it
 * commit, e.g. every update a writer sends only after its previous one was acknowledged.
 */
export const LOG_FAULT_DOCUMENTS = 2

export function isStorageFaultPoint(point: string | undefined): point is StorageFaultPoint {
  return (STORAGE_FAULT_POINTS as readonly string[]).includes(point ?? '')
}

/** Ends the process now: nothing after this call runs, so the transaction never commits. */
function killNow(): void {
  process.kill(process.pid, 'SIGKILL')
  // A signal to the own process is delivered before kill(2) returns; should it lag, block until it lands.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
}

/**
 * The hook to run inside each group's transaction before its commit (SqliteStorage's
 * `beforeLogCommit`) for the configured point, or undefined when the point is not this one.
 */
export function logCommitFault(point: StorageFaultPoint | undefined): BeforeCommit | undefined {
  if (point !== 'log-before-commit') return undefined
  return (documents) => {
    if (new Set(documents).size >= LOG_FAULT_DOCUMENTS) killNow()
  }
}
