/** REST errors in the contract's shape: `{ "error": { "code", "message" } }` with a matching status. */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { ErrorCode } from '../../protocol/index.ts'

export function jsonError(c: Context, status: ContentfulStatusCode, code: ErrorCode, message: string): Response {
  return c.json({ error: { code, message } }, status)
}
