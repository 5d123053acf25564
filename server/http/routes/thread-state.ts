/**
 * The caller's own state on a thread or subject over REST, through the same write guard as a
 * socket: resolve / reopen a thread, subscribe or mute it, mark it read, follow the subject.
 * All need `comment` (contract v1, "Roles"); all answer 200 with what is now set.
 */
import type { Context } from 'hono'
import { z } from 'zod'
import { getThread, markRead, setFollowing, setResolved, setSubscription, type WriteContext } from '../../../protocol/index.ts'
import type { ParleyUser } from '../../../core/auth/claims.ts'
import { userRoute, type RouteDefinition } from '../route.ts'
import { idSchema } from '../schemas.ts'
import type { RestDependencies } from './context.ts'
import { admitToSubject, writeAnswer } from './subject-write.ts'

const subjectParams = z.object({ subjectId: idSchema })
const threadParams = z.object({ subjectId: idSchema, threadId: idSchema })

const THREAD_PATH = '/api/v1/subjects/:subjectId/threads/:threadId'
const WRITE_ERRORS = [400, 401, 403, 404, 429, 503] as const

export function threadStateRoutes(deps: RestDependencies): RouteDefinition[] {
  /** Admits the caller with `comment`, then writes as them and answers 200 with `compute`'s value. */
  async function writeAs<T>(c: Context, user: ParleyUser, subjectId: string, compute: (ctx: WriteContext) => T, create = false): Promise<Response> {
    const admitted = await admitToSubject(deps, c, user, subjectId, 'comment', { create })
    if (!admitted.ok) return admitted.error
    const written = await deps.writer.write(admitted.value.documentName, { user, role: admitted.value.role }, (doc) => compute({ doc, userId: user.id }))
    return writeAnswer(c, written, 200)
  }

  const resolution = (action: 'resolve' | 'reopen') =>
    userRoute(
      {
        method: 'post',
        path: `${THREAD_PATH}/${action}`,
        tag: 'threads',
        summary: action === 'resolve' ? 'Resolve a thread' : 'Reopen a resolved thread',
        params: threadParams,
        responses: { 200: { description: 'The thread’s state', schema: z.object({ threadId: z.string(), resolved: z.boolean() }) } },
        errors: WRITE_ERRORS,
      },
      ({ c, params, user }) =>
        writeAs(c, user, params.subjectId, (ctx) => {
          setResolved(ctx, params.threadId, action === 'resolve')
          return { threadId: params.threadId, resolved: action === 'resolve' }
        }),
    )

  const follow = (method: 'put' | 'delete') =>
    userRoute(
      {
        method,
        path: '/api/v1/subjects/:subjectId/follow',
        tag: 'threads',
        summary: method === 'put' ? 'Follow the subject' : 'Stop following the subject',
        description: 'Sets or removes the caller’s own key in `followers` (hosts are set by moderators or the backend).',
        params: subjectParams,
        responses: { 200: { description: 'Whether the caller follows', schema: z.object({ subjectId: z.string(), following: z.boolean() }) } },
        errors: WRITE_ERRORS,
      },
      ({ c, params, user }) =>
        writeAs(
          c,
          user,
          params.subjectId,
          (ctx) => {
            setFollowing(ctx, method === 'put')
            return { subjectId: params.subjectId, following: method === 'put' }
          },
          method === 'put',
        ),
    )

  return [
    resolution('resolve'),
    resolution('reopen'),
    userRoute(
      {
        method: 'put',
        path: `${THREAD_PATH}/subscription`,
        tag: 'threads',
        summary: 'Subscribe to a thread (true) or mute it (false)',
        params: threadParams,
        body: z.strictObject({ subscribed: z.boolean() }),
        responses: { 200: { description: 'The subscription', schema: z.object({ threadId: z.string(), subscribed: z.boolean() }) } },
        errors: WRITE_ERRORS,
      },
      ({ c, params, body, user }) =>
        writeAs(c, user, params.subjectId, (ctx) => {
          setSubscription(ctx, params.threadId, body.subscribed)
          return { threadId: params.threadId, subscribed: body.subscribed }
        }),
    ),
    userRoute(
      {
        method: 'post',
        path: `${THREAD_PATH}/read`,
        tag: 'threads',
        summary: 'Mark a thread read (the caller’s `readBy`)',
        params: threadParams,
        responses: { 200: { description: 'The read marker', schema: z.object({ threadId: z.string(), readAt: z.number() }) } },
        errors: WRITE_ERRORS,
      },
      ({ c, params, user }) =>
        writeAs(c, user, params.subjectId, (ctx) => {
          getThread(ctx.doc, params.threadId)
          const readAt = Date.now()
          markRead({ ...ctx, now: () => readAt }, params.threadId)
          return { threadId: params.threadId, readAt }
        }),
    ),
    follow('put'),
    follow('delete'),
  ]
}
