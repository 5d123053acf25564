/**
 * The user's operations the server has not acknowledged yet, kept so that after a rollback
 * (the server refused a change) the SDK can apply the others again on the server's state.
 * Replays reuse the ids the operations first generated, so later operations that refer to them
 * (a reply to a new thread) still find them; an operation whose effect is already there is skipped.
 */
import type * as Y from 'yjs'
import type { WriteContext } from '../protocol/index.ts'

export interface PendingOperation {
  /** What the user did, for the rollback report (e.g. `reply t1`). */
  describe: string
  run(ctx: WriteContext): void
  /** True when the document already holds the operation's effect (`ids`: those it generated). */
  applied(doc: Y.Doc, ids: readonly string[]): boolean
}

export class PendingLog {
  private operations: Array<PendingOperation & { ids: string[] }> = []

  /** Runs an operation for the first time, recording the ids it generates. */
  record<T>(ctx: WriteContext, describe: string, run: (ctx: WriteContext) => T, applied: PendingOperation['applied'] = () => false): T {
    const ids: string[] = []
    const generate = ctx.newId ?? (() => globalThis.crypto.randomUUID())
    const result = run({
      ...ctx,
      newId: () => {
        const id = generate()
        ids.push(id)
        return id
      },
    })
    this.operations.push({ describe, ids, applied, run })
    return result
  }

  /** Applies an operation again with the ids it generated the first time. */
  static replay(operation: PendingOperation & { ids: string[] }, ctx: WriteContext): void {
    let next = 0
    operation.run({
      ...ctx,
      newId: () => operation.ids[next++] ?? globalThis.crypto.randomUUID(),
    })
  }

  take(): Array<PendingOperation & { ids: string[] }> {
    const taken = this.operations
    this.operations = []
    return taken
  }

  push(operation: PendingOperation & { ids: string[] }): void {
    this.operations.push(operation)
  }

  clear(): void {
    this.operations = []
  }

  get size(): number {
    return this.operations.length
  }
}
