/** `PUT` / `DELETE /api/v1/subjects/:subjectId/members/:userId`: stored membership (backend). */
import { z } from 'zod'
import { commentsDocumentName } from '../../../protocol/index.ts'
import { backendRoute, type RouteDefinition } from '../route.ts'
import { idSchema, roleSchema } from '../schemas.ts'
import type { RestDependencies } from './context.ts'

const memberParams = z.object({ subjectId: idSchema, userId: idSchema })

const closedConnections = z.number().int().describe('connections on this instance closed because their role was lowered or removed')

export function memberRoutes(deps: RestDependencies): RouteDefinition[] {
  return [
    backendRoute(
      {
        method: 'put',
        path: '/api/v1/subjects/:subjectId/members/:userId',
        tag: 'members',
        summary: "Set a user's role on a subject",
        description: 'Registers the subject when it is new. A lower role than before closes the user’s connections to the subject with `access_revoked`.',
        params: memberParams,
        body: z.strictObject({ role: roleSchema }),
        responses: {
          200: {
            description: 'The membership as stored',
            schema: z.object({ subjectId: z.string(), userId: z.string(), role: roleSchema, closedConnections }),
          },
        },
        errors: [400, 401, 403],
      },
      async ({ c, params, body }) => {
        const member = await deps.storage.subjects.putMember(params.subjectId, params.userId, body.role)
        const closed = await deps.sessions.apply({ kind: 'access', documentName: commentsDocumentName(params.subjectId), userId: params.userId })
        return c.json({ subjectId: params.subjectId, userId: member.userId, role: member.role, closedConnections: closed })
      },
    ),
    backendRoute(
      {
        method: 'delete',
        path: '/api/v1/subjects/:subjectId/members/:userId',
        tag: 'members',
        summary: "Remove a user's membership (revoke)",
        description:
          'The user keeps only what their token and the default role give; connections that had more are closed with `access_revoked`, ' +
          'and reconnecting is refused when nothing is left.',
        params: memberParams,
        responses: {
          200: {
            description: 'Whether there was a membership to remove',
            schema: z.object({ subjectId: z.string(), userId: z.string(), removed: z.boolean(), closedConnections }),
          },
        },
        errors: [400, 401, 403],
      },
      async ({ c, params }) => {
        const removed = await deps.storage.subjects.removeMember(params.subjectId, params.userId)
        const closed = await deps.sessions.apply({ kind: 'access', documentName: commentsDocumentName(params.subjectId), userId: params.userId })
        return c.json({ subjectId: params.subjectId, userId: params.userId, removed, closedConnections: closed })
      },
    ),
  ]
}
