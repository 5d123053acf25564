/**
 * Presence over REST: `GET /api/v1/subjects/:subjectId/presence` (the users whose awareness
 * state is in the subject's document, as its connected clients see them) and
 * `GET /api/v1/users/:userId/presence` (online anywhere, last seen). Both answer from the
 * presence registry (core/presence/registry.ts; across instances with Redis: server/scaling/presence.ts).
 *
 * Who may ask: subject presence needs read on the subject, or the API key. User presence is open
 * to any authenticated user (and the backend): it tells only whether someone is online and when
 * they were last seen, never where, as a chat app shows to the people one talks to.
 */
import { z } from 'zod'
import { commentsDocumentName, PRESENCE_STATUSES } from '../../../protocol/index.ts'
import { errorResponse } from '../errors.ts'
import { userOrBackendRoute, type RouteDefinition } from '../route.ts'
import { idSchema } from '../schemas.ts'
import { requireRole, type RestDependencies } from './context.ts'

const typingSchema = z.object({ threadId: z.string().nullable(), at: z.number() })

export const presentUserSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(PRESENCE_STATUSES),
  typing: typingSchema.nullable(),
  clients: z.number().int(),
})

export function presenceRoutes(deps: RestDependencies): RouteDefinition[] {
  const { access, presence } = deps
  return [
    userOrBackendRoute(
      {
        method: 'get',
        path: '/api/v1/subjects/:subjectId/presence',
        tag: 'presence',
        summary: 'The users present in a subject now',
        description:
          'Users with an awareness state in `comments/<subjectId>`, merged over their clients: `active` if any client is, ' +
          'the latest typing that is not stale (6 s after this server received it). The caller needs read on the subject, or the API key.',
        params: z.object({ subjectId: idSchema }),
        responses: { 200: { description: 'Present users, by id', schema: z.object({ subjectId: z.string(), users: z.array(presentUserSchema) }) } },
        errors: [400, 401, 403],
      },
      async ({ c, params, caller }) => {
        const documentName = commentsDocumentName(params.subjectId)
        if (caller.kind === 'user') {
          const role = await requireRole(access, caller.user, documentName, 'read')
          if (!role.ok) return errorResponse(c, role.error)
        }
        return c.json({ subjectId: params.subjectId, users: await presence.document(documentName) })
      },
    ),
    userOrBackendRoute(
      {
        method: 'get',
        path: '/api/v1/users/:userId/presence',
        tag: 'presence',
        summary: "A user's presence across all documents",
        description:
          '`online`: the user has a connection the server heard from within the presence timeout (30 s). ' +
          '`lastSeenAt`: the last time a server heard from them, null if never. With several instances (Redis) both are across all of them. ' +
          'Any authenticated user may ask.',
        params: z.object({ userId: idSchema }),
        responses: {
          200: { description: 'Online and last seen', schema: z.object({ userId: z.string(), online: z.boolean(), lastSeenAt: z.number().nullable() }) },
        },
        errors: [400, 401],
      },
      async ({ c, params }) => {
        const { online, lastSeenAt } = await presence.user(params.userId)
        return c.json({ userId: params.userId, online, lastSeenAt })
      },
    ),
  ]
}
