/**
 * Moderation of comments over REST (contract additions, "Moderation"): `POST …/hide` `{ reason? }`
 * and `…/unhide` (moderate) → 200; `POST …/report` `{ reason }` (read) → 202, a repeat 202 and
 * counted once; at `PARLEY_REPORT_THRESHOLD` distinct reporters the subject's moderators get one
 * `moderation` notification. Each action goes into the moderation log.
 */
import type { Context } from 'hono'
import { z } from 'zod'
import { commentsDocumentName } from '../../../protocol/index.ts'
import type { ParleyUser } from '../../../core/auth/claims.ts'
import { MAX_MODERATION_REASON_LENGTH } from '../../../core/guard/rules.ts'
import { effectivePreferences } from '../../../core/notifications/preferences.ts'
import { notifyModeratorsOfReports } from '../../../core/notifications/report-notice.ts'
import { readFollowers } from '../../../protocol/index.ts'
import { readDocument } from '../../documents/read.ts'
import { hide, peekComment, unhide, type CommentTarget, type ModerationOutcome } from '../../moderation/hide.ts'
import { errorResponse } from '../errors.ts'
import { userRoute, type RouteDefinition } from '../route.ts'
import { idSchema } from '../schemas.ts'
import type { RestDependencies } from './context.ts'
import { admitToSubject, STORAGE_DOWN, writeAnswer } from './subject-write.ts'

const commentParams = z.object({ subjectId: idSchema, threadId: idSchema, commentId: idSchema })
const COMMENT_PATH = '/api/v1/subjects/:subjectId/threads/:threadId/comments/:commentId'
const reasonSchema = z.string().max(MAX_MODERATION_REASON_LENGTH)
const moderationSchema = z.object({ hiddenBy: z.string(), reason: z.string(), at: z.number() }).nullable()
const ERRORS = [400, 401, 403, 404, 409, 429, 503] as const

export function moderationRoutes(deps: RestDependencies): RouteDefinition[] {
  /** Runs `answer`; storage failing on the way is 503 `storage_unavailable` (logged), not a 500. */
  async function orStorageDown(c: Context, what: string, answer: () => Promise<Response>): Promise<Response> {
    try {
      return await answer()
    } catch (error) {
      deps.logger.error({ err: error, path: c.req.path }, `${what} failed`)
      return errorResponse(c, STORAGE_DOWN)
    }
  }

  const hideDeps = { logger: deps.logger, storage: deps.storage, hocuspocus: deps.hocuspocus, writer: deps.writer, events: deps.events, now: deps.now }

  async function moderate(c: Context, user: ParleyUser, target: CommentTarget, action: 'hide' | 'unhide', reason: string): Promise<Response> {
    const admitted = await admitToSubject(deps, c, user, target.subjectId, 'moderate')
    if (!admitted.ok) return admitted.error
    const moderator = { user, role: admitted.value.role }
    const outcome: ModerationOutcome = action === 'hide' ? await hide(hideDeps, moderator, target, reason) : await unhide(hideDeps, moderator, target)
    if (outcome.ok && outcome.value.changed) {
      await deps.storage.moderation.appendLog({
        subjectId: target.subjectId,
        action,
        actorId: user.id,
        targetUserId: outcome.value.authorId,
        commentId: target.commentId,
        reason: action === 'hide' ? reason : null,
        at: deps.now(),
      })
    }
    return writeAnswer(c, outcome.ok ? { ok: true, value: { commentId: target.commentId, moderation: outcome.value.moderation } } : outcome, 200)
  }

  const moderation = (action: 'hide' | 'unhide') =>
    userRoute(
      {
        method: 'post',
        path: `${COMMENT_PATH}/${action}`,
        tag: 'moderation',
        summary: action === 'hide' ? 'Hide a comment (its words leave the document, kept server-side)' : 'Unhide a comment (its words come back)',
        params: commentParams,
        body: action === 'hide' ? z.strictObject({ reason: reasonSchema.optional() }).optional() : undefined,
        responses: { 200: { description: 'The comment’s moderation now', schema: z.object({ commentId: z.string(), moderation: moderationSchema }) } },
        errors: ERRORS,
      },
      ({ c, params, body, user }) => orStorageDown(c, action, () => moderate(c, user, params, action, (body as { reason?: string } | undefined)?.reason ?? '')),
    )

  return [
    moderation('hide'),
    moderation('unhide'),
    userRoute(
      {
        method: 'post',
        path: `${COMMENT_PATH}/report`,
        tag: 'moderation',
        summary: 'Report a comment to the subject’s moderators',
        description: 'Once per user and comment (a repeat answers 202 and is not counted again).',
        params: commentParams,
        body: z.strictObject({ reason: reasonSchema }),
        responses: { 202: { description: 'The report is received', schema: z.object({ commentId: z.string() }) } },
        errors: ERRORS,
      },
      ({ c, params, body, user }) =>
        orStorageDown(c, 'a report', async () => {
          const admitted = await admitToSubject(deps, c, user, params.subjectId, 'read')
          if (!admitted.ok) return admitted.error
          const peek = await peekComment(deps.hocuspocus, params)
          if (!peek.ok) return errorResponse(c, peek.error)
          const at = deps.now()
          const report = await deps.storage.moderation.report(params.subjectId, params.commentId, user.id, body.reason, at)
          if (report.added) {
            const { authorId } = peek.value
            await deps.storage.moderation.appendLog({
              subjectId: params.subjectId,
              action: 'report',
              actorId: user.id,
              targetUserId: authorId,
              commentId: params.commentId,
              reason: body.reason,
              at,
            })
            deps.events.emit('comment.reported', { ...params, authorId, reporterId: user.id, reason: body.reason, reporters: report.reporters })
            if (report.reporters >= deps.reportThreshold) {
              // Hosts are candidates too: a remembered claim may make them moderators.
              const hosts = await readDocument(deps.hocuspocus, commentsDocumentName(params.subjectId), (doc) =>
                Object.entries(readFollowers(doc))
                  .filter(([, role]) => role === 'host')
                  .map(([userId]) => userId),
              )
              const recorded = await notifyModeratorsOfReports(
                {
                  storage: deps.storage,
                  access: deps.access,
                  events: deps.events,
                  preferences: async (id) => effectivePreferences(await deps.storage.preferences.get(id)),
                },
                { ...params, reporterId: user.id, reason: body.reason, candidates: hosts },
              )
              if (recorded.notifications.length > 0) deps.outbox.kick()
            }
          }
          return c.json({ commentId: params.commentId }, 202)
        }),
    ),
  ]
}
