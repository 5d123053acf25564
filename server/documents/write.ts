/**
 * Server-side writes to a document as one user (REST): compute, check, then apply.
 *
 * 1. Compute: the document's state is copied into a scratch Y.Doc, the writer (a schema writer
 *    from protocol/comments/write.ts) runs there, and its changes are captured as one Yjs update.
 *    The live document is untouched, so a refused write leaves nothing behind.
 * 2. Check: {@link UpdateCheck}, the write guard's hook point, sees the update, the live
 *    document and the actor, exactly as it sees a socket write before it is applied.
 * 3. Apply: the update is applied to the live document in one `transact` of a direct connection.
 *    Hocuspocus broadcasts it to every connection; durability appends it from the document's
 *    update event, and the write resolves once that append is done.
 *
 * The scratch document has a fresh client id, as every client session does, so its structs never
 * collide with anything another writer creates meanwhile.
 */
import type { Hocuspocus } from '@hocuspocus/server'
import * as Y from 'yjs'
import { ErrorCode, ParleyError, type ParleyErrorInfo, type Role } from '../../protocol/index.ts'
import type { ParleyUser } from '../auth/claims.ts'

/** Who writes: the user as authenticated, with their role on the document. */
export interface WriteActor {
  user: ParleyUser
  role: Role
}

export interface UpdateCheckInput {
  documentName: string
  /** The live document, before the update is applied. */
  document: Y.Doc
  update: Uint8Array
  actor: WriteActor
}

/**
 * THE GUARD HOOK POINT: decides whether a computed update may enter the live document; `null`
 * allows it, an error refuses it (`write_rejected`, `too_large`, …). The write guard
 * (extensions/guard) provides the real check; server/server.ts passes it as `checkUpdate`.
 */
export type UpdateCheck = (input: UpdateCheckInput) => ParleyErrorInfo | null | Promise<ParleyErrorInfo | null>

/** Allows everything: what runs until the write guard's check is wired in. */
export const allowEveryUpdate: UpdateCheck = () => null

export type WriteResult<T> = { ok: true; value: T } | { ok: false; error: ParleyErrorInfo }

export interface ServerWriter {
  /**
   * Runs `compute` on a scratch copy of the document as `actor`, and applies what it wrote.
   * A `ParleyError` thrown by `compute`, or a refusal by the check, is returned as an error.
   */
  write<T>(documentName: string, actor: WriteActor, compute: (scratch: Y.Doc) => T): Promise<WriteResult<T>>
}

export interface ServerWriterOptions {
  hocuspocus: Hocuspocus
  checkUpdate: UpdateCheck
  /** Resolves once the server-side writes of a document seen so far are stored. */
  whenStored: (documentName: string) => Promise<void>
}

/** Runs `compute` on a copy of `live`; resolves with its result and everything it wrote, as one update. */
function computeOnScratch<T>(live: Y.Doc, compute: (scratch: Y.Doc) => T): { value: T; update: Uint8Array | null } {
  const scratch = new Y.Doc()
  try {
    Y.applyUpdate(scratch, Y.encodeStateAsUpdate(live))
    const updates: Uint8Array[] = []
    scratch.on('update', (update: Uint8Array) => updates.push(update))
    const value = compute(scratch)
    return { value, update: updates.length === 0 ? null : Y.mergeUpdates(updates) }
  } finally {
    scratch.destroy()
  }
}

function asWriteError(error: unknown): ParleyErrorInfo | null {
  return error instanceof ParleyError ? { code: error.code, message: error.message } : null
}

export function createServerWriter(options: ServerWriterOptions): ServerWriter {
  const { hocuspocus, checkUpdate, whenStored } = options
  return {
    async write(documentName, actor, compute) {
      let connection
      try {
        connection = await hocuspocus.openDirectConnection(documentName, { user: actor.user, role: actor.role })
      } catch {
        // Loading failed (durability refuses with storage_unavailable and logs why).
        return { ok: false, error: { code: ErrorCode.StorageUnavailable, message: 'the document could not be loaded; retry later' } }
      }
      try {
        const live = connection.document
        if (!live) throw new Error(`direct connection to ${documentName} has no document`)
        let computed
        try {
          computed = computeOnScratch(live, compute)
        } catch (error) {
          const refused = asWriteError(error)
          if (refused) return { ok: false, error: refused }
          throw error
        }
        const { value, update } = computed
        if (update === null) return { ok: true, value }
        const refusal = await checkUpdate({ documentName, document: live, update, actor })
        if (refusal) return { ok: false, error: refusal }
        await connection.transact((document) => Y.applyUpdate(document, update))
        await whenStored(documentName)
        return { ok: true, value }
      } finally {
        await connection.disconnect()
      }
    },
  }
}
