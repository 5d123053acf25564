/**
 * Threads of a subject over REST, for backends, bots and clients without a socket:
 * `GET …/threads` (read), `POST …/threads` and `POST …/threads/:threadId/comments` (comment).
 * Writes go through the server writer as the token's user, checked like socket writes (schema,
 * role, document size cap) and admitted by the user's write rate (429 `rate_limited`, `Retry-After`).
 *
 * Order of checks: credentials (401), path and body (400), role (403), subject exists (404; a first
 * thread creates the subject when the user has `comment` on it).
 */
import type { Context } from 'hono'
import { z } from 'zod'
import { createThread, readThreads, reply, type Role } from '../../../protocol/index.ts'
import type { ParleyUser } from '../../../core/auth/claims.ts'
import { withResolvedMentions } from '../../../core/mentions/resolve.ts'
import { readDocument } from '../../documents/read.ts'
import { errorResponse } from '../errors.ts'
import { userRoute, type RouteDefinition } from '../route.ts'
import { bodyInputSchema, idSchema, metadataSchema, threadSchema } from '../schemas.ts'
import type { RestDependencies } from './context.ts'
import { admitToSubject, bodyBytes, STORAGE_DOWN, writeAnswer, type AdmitOptions } from './subject-write.ts'

const subjectParams = z.object({ subjectId: idSchema })
const threadParams = z.object({ subjectId: idSchema, threadId: idSchema })

export function threadRoutes(deps: RestDependencies): RouteDefinition[] {
  const { hocuspocus, writer, logger, storage } = deps
  const userIdOfHandle = (handle: string) => storage.users.findByHandle(handle).then((found) => found?.id ?? null)

  const admit = (c: Context, user: ParleyUser, subjectId: string, need: Role, options?: AdmitOptions) => admitToSubject(deps, c, user, subjectId, need, options)

  return [
    userRoute(
      {
        method: 'get',
        path: '/api/v1/subjects/:subjectId/threads',
        tag: 'threads',
        summary: "A subject's threads",
        description:
          'As `readThreads` returns them (oldest first, deleted comments with an empty body), except that each comment’s `mentions` also holds the users its plain `@handle` text names, resolved through the directory as notifications resolve them.',
        params: subjectParams,
        responses: { 200: { description: 'The threads', schema: z.object({ subjectId: z.string(), threads: z.array(threadSchema) }) } },
        errors: [400, 401, 403, 404, 503],
      },
      async ({ c, params, user }) => {
        const admitted = await admit(c, user, params.subjectId, 'read')
        if (!admitted.ok) return admitted.error
        let threads
        try {
          threads = await withResolvedMentions(await readDocument(hocuspocus, admitted.value.documentName, readThreads), userIdOfHandle)
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
        const admitted = await admit(c, user, params.subjectId, 'comment', { create: true })
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
