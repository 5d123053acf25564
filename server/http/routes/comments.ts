/**
 * One comment over REST, as the token's user through the same write guard as a socket:
 * `PATCH …/comments/:commentId` (author) → 200, `DELETE …/comments/:commentId` (author, or
 * moderate) → 204, `PUT` / `DELETE …/comments/:commentId/reactions/:emoji` (comment) → 204.
 * Refusals: role 403 `forbidden`, guard 403 `write_rejected`, unknown thread or comment 404,
 * deleted comment 409 `comment_deleted`.
 */
import { z } from 'zod'
import { MAX_EMOJI_LENGTH } from '../../../protocol/index.ts'
import { deleteLive, editLive, reactLive } from '../../documents/comment-writes.ts'
import { userRoute, type RouteDefinition } from '../route.ts'
import { bodyInputSchema, idSchema } from '../schemas.ts'
import type { RestDependencies } from './context.ts'
import { admitToSubject, bodyBytes, writeAnswer } from './subject-write.ts'

const commentParams = z.object({ subjectId: idSchema, threadId: idSchema, commentId: idSchema })
const reactionParams = commentParams.extend({ emoji: z.string().min(1).max(MAX_EMOJI_LENGTH) })

const COMMENT_PATH = '/api/v1/subjects/:subjectId/threads/:threadId/comments/:commentId'
const WRITE_ERRORS = [400, 401, 403, 404, 409, 413, 429, 503] as const

export function commentRoutes(deps: RestDependencies): RouteDefinition[] {
  const { writer } = deps

  const reaction = (method: 'put' | 'delete', on: boolean) =>
    userRoute(
      {
        method,
        path: `${COMMENT_PATH}/reactions/:emoji`,
        tag: 'threads',
        summary: on ? 'React to a comment as the token’s user' : 'Take back the token’s user’s reaction',
        params: reactionParams,
        responses: { 204: { description: on ? 'The reaction is there' : 'The reaction is gone' } },
        errors: WRITE_ERRORS,
      },
      async ({ c, params, user }) => {
        const admitted = await admitToSubject(deps, c, user, params.subjectId, 'comment')
        if (!admitted.ok) return admitted.error
        const written = await writer.write(
          admitted.value.documentName,
          { user, role: admitted.value.role },
          (doc) => reactLive({ doc, userId: user.id }, params.threadId, params.commentId, params.emoji, on),
          { bytes: bodyBytes(params) },
        )
        return writeAnswer(c, written, 204)
      },
    )

  return [
    userRoute(
      {
        method: 'patch',
        path: COMMENT_PATH,
        tag: 'threads',
        summary: 'Edit one’s own comment',
        params: commentParams,
        body: z.strictObject({ body: bodyInputSchema }),
        responses: { 200: { description: 'The comment was edited', schema: z.object({ commentId: z.string() }) } },
        errors: WRITE_ERRORS,
      },
      async ({ c, params, body, user }) => {
        const admitted = await admitToSubject(deps, c, user, params.subjectId, 'comment')
        if (!admitted.ok) return admitted.error
        const written = await writer.write(
          admitted.value.documentName,
          { user, role: admitted.value.role },
          (doc) => {
            editLive({ doc, userId: user.id }, params.threadId, params.commentId, body.body)
            return { commentId: params.commentId }
          },
          { bytes: bodyBytes(body) },
        )
        return writeAnswer(c, written, 200)
      },
    ),
    userRoute(
      {
        method: 'delete',
        path: COMMENT_PATH,
        tag: 'threads',
        summary: 'Delete a comment (one’s own, or any as a moderator)',
        params: commentParams,
        responses: { 204: { description: 'The comment is deleted' } },
        errors: WRITE_ERRORS,
      },
      async ({ c, params, user }) => {
        const admitted = await admitToSubject(deps, c, user, params.subjectId, 'comment')
        if (!admitted.ok) return admitted.error
        const { role } = admitted.value
        const at = Date.now()
        const written = await writer.write(admitted.value.documentName, { user, role }, (doc) =>
          deleteLive({ doc, userId: user.id, now: () => at }, role, params.threadId, params.commentId),
        )
        if (written.ok && written.value.authorId !== user.id) {
          // A moderator's deletion of someone else's comment goes into the moderation log.
          await deps.storage.moderation.appendLog({
            subjectId: params.subjectId,
            action: 'delete',
            actorId: user.id,
            targetUserId: written.value.authorId,
            commentId: params.commentId,
            reason: null,
            at,
          })
        }
        return writeAnswer(c, written, 204)
      },
    ),
    reaction('put', true),
    reaction('delete', false),
  ]
}
