/** The user directory: `PUT /api/v1/users/:userId` (backend) and `GET /api/v1/users` (mention autocomplete). */
import { z } from 'zod'
import { commentsDocumentName } from '../../../protocol/index.ts'
import { createDirectory } from '../../../core/access/directory.ts'
import { errorResponse } from '../errors.ts'
import { backendRoute, userRoute, type RouteDefinition } from '../route.ts'
import { directoryUserSchema, idSchema } from '../schemas.ts'
import { requireRole, type RestDependencies } from './context.ts'

/** Results of one directory search unless `limit` says otherwise. */
export const DIRECTORY_DEFAULT_LIMIT = 10

/** Most results of one directory search. */
export const DIRECTORY_MAX_LIMIT = 50

/** Longest directory query. */
export const DIRECTORY_MAX_QUERY_LENGTH = 64

/** Longest email address (RFC 5321 path limit) and locale tag. */
const MAX_EMAIL_LENGTH = 254
const MAX_LOCALE_LENGTH = 35

const localeSchema = z
  .string()
  .max(MAX_LOCALE_LENGTH)
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a BCP 47 tag such as en or pt-BR')

const handleSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^\s@]+$/, 'a handle has no spaces and no @')

export function userRoutes(deps: RestDependencies): RouteDefinition[] {
  const { storage, access, logger } = deps
  const directory = createDirectory(storage, access)
  return [
    backendRoute(
      {
        method: 'put',
        path: '/api/v1/users/:userId',
        tag: 'users',
        summary: "Set a user's directory profile",
        description:
          'Replaces name and handle (absent or null: none). Once set here, the name and handle in the user’s tokens no longer change them. ' +
          'A handle belongs to one user (case-insensitive): whoever held it (through a token, or an earlier call) loses it. ' +
          '`email` and `locale` (for email delivery) are changed only when given (null removes them) and are never shown to other users.',
        params: z.object({ userId: idSchema }),
        body: z.strictObject({
          name: z.string().min(1).max(200).nullable().optional(),
          handle: handleSchema.nullable().optional(),
          email: z.email().max(MAX_EMAIL_LENGTH).nullable().optional(),
          locale: localeSchema.nullable().optional(),
        }),
        responses: { 200: { description: 'The profile as stored', schema: directoryUserSchema } },
        errors: [400, 401, 403],
      },
      async ({ c, params, body }) => {
        const { user, displaced } = await storage.users.putProfile(params.userId, { name: body.name ?? null, handle: body.handle ?? null })
        if (displaced.length > 0)
          logger.warn({ userId: user.id, handle: user.handle, displaced }, 'the backend gave a handle that other users held; they lost it')
        if (body.email !== undefined || body.locale !== undefined)
          await storage.contacts.put(params.userId, { email: body.email, locale: body.locale }, Date.now())
        return c.json({ id: user.id, name: user.name, handle: user.handle })
      },
    ),
    userRoute(
      {
        method: 'get',
        path: '/api/v1/users',
        tag: 'users',
        summary: 'Search the directory for mention autocomplete',
        description:
          'Users whose handle or name starts with `query`, or whose name has a word starting with it (case-insensitive), ' +
          'who may read the subject, in order of the matching handle or name (from that word on), then id. The caller needs read on the subject.',
        query: z.object({
          query: z.string().max(DIRECTORY_MAX_QUERY_LENGTH).default(''),
          subjectId: idSchema,
          limit: z.coerce.number().int().min(1).max(DIRECTORY_MAX_LIMIT).default(DIRECTORY_DEFAULT_LIMIT),
        }),
        responses: { 200: { description: 'Matching readers, by matching handle or name, then id', schema: z.object({ users: z.array(directoryUserSchema) }) } },
        errors: [400, 401, 403, 503],
      },
      async ({ c, query, user }) => {
        const role = await requireRole(access, user, commentsDocumentName(query.subjectId), 'read')
        if (!role.ok) return errorResponse(c, role.error)
        const found = await directory.search(query)
        return c.json({ users: found.map((u) => ({ id: u.id, name: u.name, handle: u.handle })) })
      },
    ),
  ]
}
