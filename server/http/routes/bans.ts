/**
 * Bans and the moderation log over REST (contract additions, "Moderation"), for moderators of the
 * subject and the backend: `PUT` / `DELETE /api/v1/subjects/:subjectId/bans/:userId`
 * `{ reason, until? }` and `GET /api/v1/subjects/:subjectId/moderation-log?cursor=`.
 * While banned (until `until`, or until lifted) the user's role on the subject is at most `read`
 * (core/access/resolve.ts); open sessions on this instance are downgraded at once.
 */
import type { Context } from 'hono'
import { z } from 'zod'
import { commentsDocumentName } from '../../../protocol/index.ts'
import { MAX_MODERATION_REASON_LENGTH } from '../../../core/guard/rules.ts'
import { MODERATION_ACTIONS } from '../../../core/storage/moderation-types.ts'
import { errorResponse, jsonError } from '../errors.ts'
import { userOrBackendRoute, type Caller, type RouteDefinition } from '../route.ts'
import { idSchema } from '../schemas.ts'
import { requireRole, type RestDependencies } from './context.ts'
import { STORAGE_DOWN } from './subject-write.ts'
import { ErrorCode } from '../../../protocol/index.ts'

/** Entries per page of the moderation log. */
export const MODERATION_LOG_PAGE = 50

const banParams = z.object({ subjectId: idSchema, userId: idSchema })
const reasonSchema = z.string().max(MAX_MODERATION_REASON_LENGTH)

const entrySchema = z.object({
  id: z.string(),
  action: z.enum(MODERATION_ACTIONS),
  actorId: z.string().nullable(),
  targetUserId: z.string().nullable(),
  commentId: z.string().nullable(),
  reason: z.string().nullable(),
  at: z.number(),
})

export function banRoutes(deps: RestDependencies): RouteDefinition[] {
  /** Runs `answer`; storage failing on the way is 503 `storage_unavailable` (logged), not a 500. */
  async function storageOr503(c: Context, what: string, answer: () => Promise<Response>): Promise<Response> {
    try {
      return await answer()
    } catch (error) {
      deps.logger.error({ err: error, path: c.req.path }, `${what} failed`)
      return errorResponse(c, STORAGE_DOWN)
    }
  }

  /** The backend, or a user with `moderate` on the subject; the refusal otherwise. */
  async function moderator(c: Context, caller: Caller, subjectId: string): Promise<{ actorId: string | null } | Response> {
    if (caller.kind === 'backend') return { actorId: null }
    const role = await requireRole(deps.access, caller.user, commentsDocumentName(subjectId), 'moderate')
    return role.ok ? { actorId: caller.user.id } : errorResponse(c, role.error)
  }

  return [
    userOrBackendRoute(
      {
        method: 'put',
        path: '/api/v1/subjects/:subjectId/bans/:userId',
        tag: 'moderation',
        summary: 'Ban a user from a subject (role at most read), until `until` or until lifted',
        params: banParams,
        body: z.strictObject({ reason: reasonSchema, until: z.number().int().positive().optional() }),
        responses: {
          200: {
            description: 'The ban as stored',
            schema: z.object({
              subjectId: z.string(),
              userId: z.string(),
              reason: z.string(),
              until: z.number().nullable(),
              downgradedConnections: z.number(),
            }),
          },
        },
        errors: [400, 401, 403, 503],
      },
      ({ c, params, body, caller }) =>
        storageOr503(c, 'a ban', async () => {
          const allowed = await moderator(c, caller, params.subjectId)
          if (allowed instanceof Response) return allowed
          const at = deps.now()
          if (body.until !== undefined && body.until <= at) return jsonError(c, 400, ErrorCode.InvalidRequest, 'body.until: must be in the future')
          const until = body.until ?? null
          await deps.storage.moderation.putBan({ ...params, reason: body.reason, until, bannedBy: allowed.actorId, at })
          await deps.storage.moderation.appendLog({
            subjectId: params.subjectId,
            action: 'ban',
            actorId: allowed.actorId,
            targetUserId: params.userId,
            commentId: null,
            reason: body.reason,
            at,
          })
          const documentName = commentsDocumentName(params.subjectId)
          const downgraded = await deps.sessions.apply({ kind: 'ban', documentName, userId: params.userId, until })
          return c.json({ ...params, reason: body.reason, until, downgradedConnections: downgraded })
        }),
    ),
    userOrBackendRoute(
      {
        method: 'delete',
        path: '/api/v1/subjects/:subjectId/bans/:userId',
        tag: 'moderation',
        summary: 'Lift a ban',
        params: banParams,
        // The contract's `{ reason, until? }` is accepted on DELETE too; `until` means nothing there.
        body: z.object({ reason: reasonSchema.optional(), until: z.number().optional() }).optional(),
        responses: { 200: { description: 'Whether there was a ban', schema: z.object({ subjectId: z.string(), userId: z.string(), removed: z.boolean() }) } },
        errors: [400, 401, 403, 503],
      },
      ({ c, params, body, caller }) =>
        storageOr503(c, 'lifting a ban', async () => {
          const allowed = await moderator(c, caller, params.subjectId)
          if (allowed instanceof Response) return allowed
          const removed = await deps.storage.moderation.removeBan(params.subjectId, params.userId)
          if (removed) {
            const reason = (body as { reason?: string } | undefined)?.reason ?? null
            await deps.storage.moderation.appendLog({
              subjectId: params.subjectId,
              action: 'unban',
              actorId: allowed.actorId,
              targetUserId: params.userId,
              commentId: null,
              reason,
              at: deps.now(),
            })
            await deps.sessions.apply({ kind: 'unban', documentName: commentsDocumentName(params.subjectId), userId: params.userId })
          }
          return c.json({ ...params, removed })
        }),
    ),
    userOrBackendRoute(
      {
        method: 'get',
        path: '/api/v1/subjects/:subjectId/moderation-log',
        tag: 'moderation',
        summary: "A subject's moderation log, newest first",
        params: z.object({ subjectId: idSchema }),
        query: z.object({
          cursor: z
            .string()
            .regex(/^\d{1,19}$/, 'must be a cursor from nextCursor')
            .optional(),
        }),
        responses: { 200: { description: 'One page of the log', schema: z.object({ entries: z.array(entrySchema), nextCursor: z.string().nullable() }) } },
        errors: [400, 401, 403, 503],
      },
      ({ c, params, query, caller }) =>
        storageOr503(c, 'the moderation log', async () => {
          const allowed = await moderator(c, caller, params.subjectId)
          if (allowed instanceof Response) return allowed
          const page = await deps.storage.moderation.listLog(params.subjectId, { before: query.cursor ?? null, limit: MODERATION_LOG_PAGE })
          return c.json({ entries: page.entries, nextCursor: page.next })
        }),
    ),
  ]
}
