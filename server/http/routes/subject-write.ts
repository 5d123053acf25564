/**
 * What the REST routes that write to a subject's comments document share: admission (the user's
 * role, then that the subject exists, or may be created by this write), and the answer to a write.
 *
 * Order of checks: role (403 `forbidden`), subject exists (404), then the write itself: the guard
 * refuses with 403 `write_rejected`, an unknown thread or comment is 404, a deleted comment 409.
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { commentsDocumentName, err, ErrorCode, ok, type Result, type Role } from '../../../protocol/index.ts'
import type { ParleyUser } from '../../../core/auth/claims.ts'
import { subjectExists } from '../../documents/read.ts'
import type { WriteResult } from '../../documents/write.ts'
import { errorResponse, jsonError } from '../errors.ts'
import { requireRole, type RestDependencies } from './context.ts'

const UNKNOWN_SUBJECT = 'has no threads: it was never written and is not registered'

export const STORAGE_DOWN = { code: ErrorCode.StorageUnavailable, message: 'storage does not answer; retry later' }

/** The subject's document and the user's role on it, or the answer that refuses the request. */
export type Admission = Result<{ documentName: string; role: Role }, Response>

export interface AdmitOptions {
  /** The write may create a subject that was never written (a first thread, a follow). */
  create?: boolean
}

/** The user's role on the subject (403), then that the subject exists (404) unless this write may create it. */
export async function admitToSubject(
  deps: Pick<RestDependencies, 'access' | 'storage' | 'logger'>,
  c: Context,
  user: ParleyUser,
  subjectId: string,
  need: Role,
  options: AdmitOptions = {},
): Promise<Admission> {
  const documentName = commentsDocumentName(subjectId)
  const role = await requireRole(deps.access, user, documentName, need)
  if (!role.ok) return err(errorResponse(c, role.error))
  if (options.create) return ok({ documentName, role: role.value })
  let exists: boolean
  try {
    exists = await subjectExists(deps.storage, subjectId)
  } catch (error) {
    deps.logger.error({ err: error, documentName }, 'could not tell whether the subject exists')
    return err(errorResponse(c, STORAGE_DOWN))
  }
  if (!exists) return err(jsonError(c, 404, ErrorCode.NotFound, `subject ${subjectId} ${UNKNOWN_SUBJECT}`))
  return ok({ documentName, role: role.value })
}

/** Bytes of a request body as the writer's rate admission counts them (its JSON, UTF-8). */
export function bodyBytes(body: unknown): number {
  return Buffer.byteLength(JSON.stringify(body ?? null))
}

/** `status` with the written value (none for 204), or the error; a refused rate admission carries `Retry-After` (whole seconds, rounded up). */
export function writeAnswer<T>(c: Context, written: WriteResult<T>, status: ContentfulStatusCode | 204 = 201): Response {
  if (written.ok) return status === 204 ? c.body(null, 204) : c.json(written.value, status)
  if (written.error.retryAfterMs !== undefined) c.header('Retry-After', String(Math.max(1, Math.ceil(written.error.retryAfterMs / 1000))))
  return errorResponse(c, { code: written.error.code, message: written.error.message })
}
