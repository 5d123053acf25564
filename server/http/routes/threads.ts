/**
 * Threads of a subject over REST, for backends, bots and clients without a socket:
 * `GET …/threads` (read), `POST …/threads` and `POST …/threads/:threadId/comments` (comment).
 * Writes go through the server writer as the token's user, checked like socket writes (schema,
 * role, document size cap) and admitted by the user's write rate (429 `rate_limited`, `Retry-After`).
 *
 * Order of checks: credentials (401), path and body (400), role (403), subject exists (404).
 */
import type { Context } from 'hono'
import { z } from 'zod'
import { commentsDocumentName, createThread, err, ErrorCode, ok, readThreads, reply, type Result, type Role } from '../../../protocol/index.ts'
import type { ParleyUser } from '../../../core/auth/claims.ts'
import { readDocument, subjectExists } from '../../documents/read.ts'
import type { WriteResult } from '../../documents/write.ts'
import { errorResponse, jsonError } from '../errors.ts'
import { userRoute, type RouteDefinition } from '../route.ts'
import { bodyInputSchema, idSchema, metadataSchema, threadSchema } from '../schemas.ts'
import { requireRole, type RestDependencies } from './context.ts'

const subjectParams = z.object({ subjectId: idSchema })
const threadParams = z.object({ subjectId: idSchema, threadId: idSchema })

const UNKNOWN_SUBJECT = 'has no threads: it was never written and is not registered'

const STORAGE_DOWN = { code: ErrorCode.StorageUnavailable, message: 'storage does not answer; retry later' }

/** The subject's document and the user's role on it, or the answer that refuses the request. */
type Admission = Result<{ documentName: string; role: Role }, Response>

/** Bytes of a request body as the writer's rate admission counts them (its JSON, UTF-8). */
function bodyBytes(body: unknown): number {
  return Buffer.byteLength(JSON.stringify(body))
}

/** 201 with the written value, or the error; a refused rate admission carries `Retry-After` (whole seconds, rounded up). */
function writeAnswer<T>(c: Context, written: WriteResult<T>): Response {
  if (written.ok) return c.json(written.value, 201)
  if (written.error.retryAfterMs !== undefined) c.header('Retry-After', String(Math.max(1, Math.ceil(written.error.retryAfterMs / 1000))))
  return errorResponse(c, { code: written.error.code, message: written.error.message })
}

export function threadRoutes(deps: RestDependencies): RouteDefinition[] {
  const { access, storage, hocuspocus, writer, logger } = deps

  /** The user's role on the subject (403), then that the subject exists (404). */
  async function admit(c: Context, user: ParleyUser, subjectId: string, need: Role): Promise<Admission> {
    const documentName = commentsDocumentName(subjectId)
    const role = await requireRole(access, user, documentName, need)
    if (!role.ok) return err(errorResponse(c, role.error))
    let exists: boolean
    try {
      exists = await subjectExists(storage, subjectId)
    } catch (error) {
      logger.error({ err: error, documentName }, 'could not tell whether the subject exists')
      return err(errorResponse(c, STORAGE_DOWN))
    }
    if (!exists) return err(jsonError(c, 404, ErrorCode.NotFound, `subject ${subjectId} ${UNKNOWN_SUBJECT}`))
    return ok({ documentName, role: role.value })
  }

  return [
    userRoute(
      {
        method: 'get',
        path: '/api/v1/subjects/:subjectId/threads',
        tag: 'threads',
        summary: "A subject's threads",
        description: 'As `readThreads` returns them: oldest first, deleted comments with an empty body.',
        params: subjectParams,
        responses: { 200: { description: 'The threads', schema: z.object({ subjectId: z.string(), threads: z.array(threadSchema) }) } },
        errors: [400, 401, 403, 404, 503],
      },
      async ({ c, params, user }) => {
        const admitted = await admit(c, user, params.subjectId, 'read')
        if (!admitted.ok) return admitted.error
        let threads
        try {
          threads = await readDocument(hocuspocus, admitted.value.documentName, readThreads)
        } catch (error) {
          logger.error({ err: error, documentName: admitted.value.documentName }, 'threads could not be read')
          return errorResponse(c, STORAGE_DOWN)
        }
        return c.json({ subjectId: params.subjectId, threads })
      },
    ),
    userRoute(
      {
        method: 'post',
        path: '/api/v1/subjects/:subjectId/threads',
        tag: 'threads',
        summary: 'Start a thread as the token’s user',
        params: subjectParams,
        body: z.strictObject({ body: bodyInputSchema, metadata: metadataSchema.optional() }),
        responses: { 201: { description: 'The new thread and its first comment', schema: z.object({ threadId: z.string(), commentId: z.string() }) } },
        errors: [400, 401, 403, 404, 413, 429, 503],
      },
      async ({ c, params, body, user }) => {
        const admitted = await admit(c, user, params.subjectId, 'comment')
        if (!admitted.ok) return admitted.error
        const written = await writer.write(
          admitted.value.documentName,
          { user, role: admitted.value.role },
          (doc) => createThread({ doc, userId: user.id }, body.body, body.metadata ?? {}),
          { bytes: bodyBytes(body) },
        )
        return writeAnswer(c, written)
      },
    ),
    userRoute(
      {
        method: 'post',
        path: '/api/v1/subjects/:subjectId/threads/:threadId/comments',
        tag: 'threads',
        summary: 'Reply in a thread as the token’s user',
        description: '`parentId` is the comment replied to; it must be in the thread.',
        params: threadParams,
        body: z.strictObject({ body: bodyInputSchema, parentId: idSchema.optional() }),
        responses: { 201: { description: 'The new comment', schema: z.object({ commentId: z.string() }) } },
        errors: [400, 401, 403, 404, 413, 429, 503],
      },
      async ({ c, params, body, user }) => {
        const admitted = await admit(c, user, params.subjectId, 'comment')
        if (!admitted.ok) return admitted.error
        const written = await writer.write(
          admitted.value.documentName,
          { user, role: admitted.value.role },
          (doc) => reply({ doc, userId: user.id }, params.threadId, body.body, body.parentId),
          { bytes: bodyBytes(body) },
        )
        return writeAnswer(c, written)
      },
    ),
  ]
}
