/** `PUT /api/v1/subjects/:subjectId`: registers a subject and sets its default role (backend). */
import { z } from 'zod'
import { commentsDocumentName } from '../../../protocol/index.ts'
import { backendRoute, type RouteDefinition } from '../route.ts'
import { idSchema, roleSchema } from '../schemas.ts'
import type { RestDependencies } from './context.ts'

const subjectParams = z.object({ subjectId: idSchema })

export const subjectSchema = z.object({
  subjectId: z.string(),
  defaultRole: roleSchema.nullable(),
  closedConnections: z.number().int().describe('connections on this instance closed because their role was lowered or removed'),
})

export function subjectRoutes(deps: RestDependencies): RouteDefinition[] {
  return [
    backendRoute(
      {
        method: 'put',
        path: '/api/v1/subjects/:subjectId',
        tag: 'subjects',
        summary: 'Register a subject and set the role every authenticated user has on it',
        description:
          '`defaultRole: null` registers the subject with no default role (only members and token claims give roles). ' +
          'Lowering or removing the default role closes the affected connections with `access_revoked`.',
        params: subjectParams,
        body: z.strictObject({ defaultRole: roleSchema.nullable() }),
        responses: { 200: { description: 'The subject as stored', schema: subjectSchema } },
        errors: [400, 401, 403],
      },
      async ({ c, params, body }) => {
        const subject = await deps.storage.subjects.put(params.subjectId, body.defaultRole)
        const closedConnections = await deps.sessions.apply({ kind: 'access', documentName: commentsDocumentName(params.subjectId), userId: null })
        return c.json({ subjectId: subject.id, defaultRole: subject.defaultRole, closedConnections })
      },
    ),
  ]
}
