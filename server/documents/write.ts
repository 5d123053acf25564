/**
 * Server-side writes to a document as one user (REST): admit, compute, check, then apply.
 *
 * 0. Admit: {@link AdmitWrite} (the user's write rate) decides before anything is loaded or
 *    computed; a refusal is `rate_limited` with the time after which to retry.
 * 1. Compute: the writer (a schema writer from protocol/comments/write.ts) runs on the document's
 *    scratch copy (./mirror.ts: made once per loaded document and kept in step with it, not copied
 *    per write), and its changes are captured as one Yjs update. The live document is untouched,
 *    so a refused write leaves nothing behind (the scratch copy that holds it is discarded).
 * 2. Check: {@link UpdateCheck}, the write guard's hook point, sees the update, the live
 *    document and the actor, exactly as it sees a socket write before it is applied (schema,
 *    roles, and the document size cap).
 * 3. Apply: the update is applied to the live document in one `transact` of a direct connection.
 *    Hocuspocus broadcasts it to every connection; durability appends it from the document's
 *    update event, and the write resolves once that append is done. The direct connection then
 *    closes; the document stays loaded until Hocuspocus's debounced store unloads it.
 *
 * Writes to one document run compute-check-apply one at a time: a write computed on the scratch
 * copy must be applied (or discarded) before the next one is computed there.
 *
 * Each write uses a client id neither document has used, as every client session does, so its
 * structs never collide with anything another writer creates meanwhile.
 */
import type { Hocuspocus } from '@hocuspocus/server'
import * as Y from 'yjs'
import { err, ErrorCode, OK, ok, ParleyError, type ParleyErrorInfo, type Result, type Role } from '../../protocol/index.ts'
import type { ParleyUser } from '../../core/auth/claims.ts'
import { Mirrors } from './mirror.ts'

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

/** The user may write now, or after `retryAfterMs`. */
export type WriteAdmission = Result<void, { retryAfterMs: number }>

/**
 * The user's write rate: may `userId` write about `bytes` bytes now? Asked once per write, before
 * the document is loaded. The server wires it to the flow gate's per-user bucket.
 */
export type AdmitWrite = (userId: string, bytes: number) => WriteAdmission

/** Admits every write. */
export const admitEveryWrite: AdmitWrite = () => OK

/** Why a server write was refused; `retryAfterMs` comes with `rate_limited`. */
export type WriteRefusal = ParleyErrorInfo & { retryAfterMs?: number }

export type WriteResult<T> = Result<T, WriteRefusal>

export interface WriteOptions {
  /** Size of what the user sends (the request body), for {@link AdmitWrite}. */
  bytes?: number
}

export interface ServerWriter {
  /**
   * Runs `compute` on a scratch copy of the document as `actor`, and applies what it wrote.
   * A refused admission, a `ParleyError` thrown by `compute`, or a refusal by the check is returned as an error.
   */
  write<T>(documentName: string, actor: WriteActor, compute: (scratch: Y.Doc) => T, options?: WriteOptions): Promise<WriteResult<T>>
}

export interface ServerWriterOptions {
  hocuspocus: Hocuspocus
  checkUpdate: UpdateCheck
  /** Resolves once the server-side writes of a document seen so far are stored. */
  whenStored: (documentName: string) => Promise<void>
  /** The per-user write rate (default {@link admitEveryWrite}). */
  admitWrite?: AdmitWrite
  /** A document's scratch copy unused this long is dropped (default `MIRROR_IDLE_MS`, ./mirror.ts). */
  scratchIdleMs?: number
}

function asWriteError(error: unknown): ParleyErrorInfo | null {
  return error instanceof ParleyError ? { code: error.code, message: error.message } : null
}

/** Runs tasks one at a time per key, in order. */
function serialized() {
  const tails = new Map<string, Promise<unknown>>()
  return async function run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve()
    const result = previous.then(task, task)
    const tail = result.catch(() => undefined)
    tails.set(key, tail)
    try {
      return await result
    } finally {
      if (tails.get(key) === tail) tails.delete(key)
    }
  }
}

export function createServerWriter(options: ServerWriterOptions): ServerWriter & { readonly mirrors: Mirrors } {
  const { hocuspocus, checkUpdate, whenStored, admitWrite = admitEveryWrite } = options
  const mirrors = new Mirrors(options.scratchIdleMs)
  const oneAtATime = serialized()

  /** Compute on the scratch copy, check, apply: one write to `live` at a time. */
  async function computeCheckApply<T>(
    documentName: string,
    connection: Awaited<ReturnType<Hocuspocus['openDirectConnection']>>,
    live: Y.Doc,
    actor: WriteActor,
    compute: (scratch: Y.Doc) => T,
  ): Promise<WriteResult<T>> {
    let computed
    try {
      computed = mirrors.compute(live, compute)
    } catch (error) {
      const refused = asWriteError(error)
      if (refused) return err(refused)
      throw error
    }
    const { value, update } = computed
    if (update === null) return ok(value)
    let refusal
    try {
      refusal = await checkUpdate({ documentName, document: live, update, actor })
    } catch (error) {
      mirrors.discard(live)
      throw error
    }
    if (refusal) {
      mirrors.discard(live)
      return err(refusal)
    }
    try {
      await connection.transact((document) => Y.applyUpdate(document, update))
    } catch (error) {
      mirrors.discard(live)
      throw error
    }
    return ok(value)
  }

  return {
    mirrors,
    async write(documentName, actor, compute, writeOptions) {
      const admission = admitWrite(actor.user.id, writeOptions?.bytes ?? 0)
      if (!admission.ok) {
        return err({ code: ErrorCode.RateLimited, message: 'too many writes; retry later', retryAfterMs: admission.error.retryAfterMs })
      }
      let connection
      try {
        connection = await hocuspocus.openDirectConnection(documentName, { user: actor.user, role: actor.role })
      } catch {
        // Loading failed (durability refuses with storage_unavailable and logs why).
        return err({ code: ErrorCode.StorageUnavailable, message: 'the document could not be loaded; retry later' })
      }
      try {
        const live = connection.document
        if (!live) throw new Error(`direct connection to ${documentName} has no document`)
        const result = await oneAtATime(documentName, () => computeCheckApply(documentName, connection, live, actor, compute))
        if (result.ok) await whenStored(documentName)
        return result
      } finally {
        // Kept loaded until Hocuspocus's debounced store (as after a socket closes): a burst of
        // writes to a document nobody has open loads it once, not once per write.
        await connection.disconnect({ unloadImmediately: false })
      }
    },
  }
}
