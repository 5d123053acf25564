/**
 * The caller's notification preferences (contract additions, "Preferences"): `GET` answers every
 * kind with its effective channels and the other settings; `PUT` merges what it is given (fields
 * left out keep their value) and answers the result. Unknown kinds or channels are 400.
 */
import { z } from 'zod'
import { ErrorCode } from '../../../protocol/index.ts'
import {
  DELIVERY_CHANNELS,
  effectivePreferences,
  isTimeZone,
  MAX_DIGEST_SECONDS,
  MAX_MUTED_SUBJECTS,
  mergePreferences,
  NOTIFICATION_KINDS,
  type NotificationKind,
  type StoredPreferences,
} from '../../../core/notifications/preferences.ts'
import { errorResponse } from '../errors.ts'
import { userRoute, type RouteDefinition } from '../route.ts'
import { idSchema } from '../schemas.ts'
import type { RestDependencies } from './context.ts'

const STORAGE_DOWN = { code: ErrorCode.StorageUnavailable, message: 'storage does not answer; retry later' }

const channelsSchema = z.strictObject({ inApp: z.boolean(), push: z.boolean(), email: z.boolean() })
const channelsPatchSchema = channelsSchema.partial()
const timeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:MM (24 h)')
const quietHoursSchema = z.strictObject({
  start: timeSchema,
  end: timeSchema,
  timeZone: z.string().max(64).refine(isTimeZone, 'must be an IANA time zone, e.g. Europe/Paris'),
})

const kindsOf = <T extends z.ZodType>(schema: T) =>
  z.strictObject(Object.fromEntries(NOTIFICATION_KINDS.map((kind) => [kind, schema])) as Record<NotificationKind, T>)

export const preferencesSchema = z.object({
  kinds: kindsOf(channelsSchema),
  digestSeconds: z.number(),
  mutedSubjects: z.array(z.string()),
  quietHours: quietHoursSchema.nullable(),
})

const preferencesPatchSchema = z.strictObject({
  kinds: kindsOf(channelsPatchSchema.optional()).optional(),
  digestSeconds: z.number().int().min(0).max(MAX_DIGEST_SECONDS).optional(),
  mutedSubjects: z.array(idSchema).max(MAX_MUTED_SUBJECTS).optional(),
  quietHours: quietHoursSchema.nullable().optional(),
})

/** The patch as stored: zod's optional fields present as `undefined` are left out. */
function toStored(patch: z.infer<typeof preferencesPatchSchema>): StoredPreferences {
  const stored: StoredPreferences = {}
  if (patch.kinds) {
    stored.kinds = {}
    for (const kind of NOTIFICATION_KINDS) {
      const change = patch.kinds[kind]
      if (!change) continue
      stored.kinds[kind] = Object.fromEntries(DELIVERY_CHANNELS.filter((channel) => change[channel] !== undefined).map((channel) => [channel, change[channel]]))
    }
  }
  if (patch.digestSeconds !== undefined) stored.digestSeconds = patch.digestSeconds
  if (patch.mutedSubjects !== undefined) stored.mutedSubjects = patch.mutedSubjects
  if (patch.quietHours !== undefined) stored.quietHours = patch.quietHours
  return stored
}

export function preferenceRoutes(deps: RestDependencies): RouteDefinition[] {
  const { storage, logger, digestSeconds } = deps
  return [
    userRoute(
      {
        method: 'get',
        path: '/api/v1/preferences',
        tag: 'preferences',
        summary: "The caller's notification preferences",
        description: `Every kind (${NOTIFICATION_KINDS.join(', ')}) with its effective channels (defaults where the user set nothing), the digest window, muted subjects and quiet hours.`,
        query: z.strictObject({}),
        responses: { 200: { description: 'The effective preferences', schema: preferencesSchema } },
        errors: [400, 401, 503],
      },
      async ({ c, user }) => {
        try {
          return c.json(effectivePreferences(await storage.preferences.get(user.id), digestSeconds))
        } catch (error) {
          logger.error({ err: error, userId: user.id }, 'preferences could not be read')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
    userRoute(
      {
        method: 'put',
        path: '/api/v1/preferences',
        tag: 'preferences',
        summary: "Change the caller's notification preferences",
        description:
          'Merges: fields left out keep their value, and so do channels left out of a kind. `mutedSubjects` replaces the list; `quietHours: null` clears them. Unknown kinds or channels are 400 `invalid_request`.',
        body: preferencesPatchSchema,
        responses: { 200: { description: 'The effective preferences after the change', schema: preferencesSchema } },
        errors: [400, 401, 413, 503],
      },
      async ({ c, body, user }) => {
        try {
          const stored = await storage.preferences.update(user.id, (current) => mergePreferences(current, toStored(body)))
          return c.json(effectivePreferences(stored, digestSeconds))
        } catch (error) {
          logger.error({ err: error, userId: user.id }, 'preferences could not be stored')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
  ]
}
