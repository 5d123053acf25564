/**
 * The user's recent operations, kept so that after a rollback (the server refused a change) the
 * SDK can apply again those the server does not have. Each operation remembers the clocks it
 * used under the document's client id: after the rollback, the server's state for that client id
 * says exactly which operations reached it. Replays reuse the ids the operations first generated,
 * so later operations that refer to them (a reply to a new thread) still find them.
 */
import * as Y from 'yjs'
import type { WriteContext } from '../protocol/index.ts'

/** Operations kept; older ones have long been acknowledged or replaced. */
export const MAX_PENDING_OPERATIONS = 1_000

export interface PendingOperation {
  /** What the user did, for the rollback report (e.g. `reply t1`). */
  describe: string
  run(ctx: WriteContext): void
}

interface Recorded extends PendingOperation {
  ids: string[]
  client: number
  /** The client's clock after the operation; equal to before when it wrote no struct (a removal). */
  clockAfter: number
  wroteStructs: boolean
}

export class PendingLog {
  private operations: Recorded[] = []

  /** Runs an operation for the first time, recording the ids and clocks it uses. */
  record<T>(ctx: WriteContext, describe: string, run: (ctx: WriteContext) => T): T {
    const ids: string[] = []
    const generate = ctx.newId ?? (() => globalThis.crypto.randomUUID())
    const client = ctx.doc.clientID
    const before = Y.getState(ctx.doc.store, client)
    const result = run({
      ...ctx,
      newId: () => {
        const id = generate()
        ids.push(id)
        return id
      },
    })
    const after = Y.getState(ctx.doc.store, client)
    this.operations.push({ describe, run, ids, client, clockAfter: after, wroteStructs: after > before })
    if (this.operations.length > MAX_PENDING_OPERATIONS) this.operations.shift()
    return result
  }

  /**
   * Takes the operations the server has not got, judged by the server's state (`serverDoc`): an
   * operation that wrote structs reached the server when the server holds its last clock.
   * Removals write no struct and cannot be judged: they are replayed (replaying one is harmless).
   */
  takeMissing(serverDoc: Y.Doc): Recorded[] {
    const missing = this.operations.filter((op) => !op.wroteStructs || Y.getState(serverDoc.store, op.client) < op.clockAfter)
    this.operations = []
    return missing
  }

  /** Applies an operation again, with the ids it generated the first time, and records it anew. */
  replay(operation: Recorded, ctx: WriteContext): void {
    let next = 0
    const ids = operation.ids
    this.record({ ...ctx, newId: () => ids[next++] ?? globalThis.crypto.randomUUID() }, operation.describe, operation.run)
  }

  get size(): number {
    return this.operations.length
  }
}
