/** REST errors in the contract's shape: `{ "error": { "code", "message" } }` with a matching status. */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { ErrorCode, ParleyErrorInfo } from '../../protocol/index.ts'

export function jsonError(c: Context, status: ContentfulStatusCode, code: ErrorCode, message: string): Response {
  return c.json({ error: { code, message } }, status)
}

/** The HTTP status that matches each error code (every code needs one: the record is exhaustive). */
export const STATUS_OF: Readonly<Record<ErrorCode, ContentfulStatusCode>> = {
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  unauthorized: 401,
  invalid_document_name: 400,
  invalid_request: 400,
  forbidden: 403,
  write_rejected: 403,
  access_revoked: 403,
  unsubscribe_token_invalid: 403,
  not_found: 404,
  out_of_sync: 409,
  comment_deleted: 409,
  too_large: 413,
  rate_limited: 429,
  too_many_documents: 429,
  internal_error: 500,
  storage_unavailable: 503,
  not_ready: 503,
}

/** An error as data, answered with its matching status. */
export function errorResponse(c: Context, error: ParleyErrorInfo): Response {
  return jsonError(c, STATUS_OF[error.code], error.code, error.message)
}
