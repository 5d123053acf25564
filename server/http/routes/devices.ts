/**
 * Push devices (contract v1 and additions, "Devices"): register an APNs or FCM token or a Web
 * Push subscription (idempotent per token: the same id again), list them without their tokens,
 * remove one. A user keeps at most MAX_DEVICES_PER_USER; registering another replaces the oldest.
 */
import { z } from 'zod'
import { ErrorCode } from '../../../protocol/index.ts'
import { deviceId, MAX_DEVICE_TOKEN_LENGTH, MAX_DEVICES_PER_USER, type DevicePlatform } from '../../../core/delivery/devices.ts'
import { errorResponse } from '../errors.ts'
import { userRoute, type RouteDefinition } from '../route.ts'
import type { RestDependencies } from './context.ts'

const STORAGE_DOWN = { code: ErrorCode.StorageUnavailable, message: 'storage does not answer; retry later' }

/** Longest Web Push endpoint URL, and key, in characters. */
const MAX_ENDPOINT_LENGTH = 2048
const MAX_KEY_LENGTH = 256

const base64url = (what: string) =>
  z
    .string()
    .min(1)
    .max(MAX_KEY_LENGTH)
    .regex(/^[A-Za-z0-9_-]+=*$/, `${what} must be base64url`)

const tokenSchema = z.string().min(1, 'token must not be empty').max(MAX_DEVICE_TOKEN_LENGTH, `token must be at most ${MAX_DEVICE_TOKEN_LENGTH} characters`)

const registrationSchema = z.discriminatedUnion('platform', [
  z.strictObject({ platform: z.literal('apns'), token: tokenSchema.regex(/^[0-9A-Fa-f]+$/, 'an APNs token is hexadecimal') }),
  z.strictObject({ platform: z.literal('fcm'), token: tokenSchema }),
  z.strictObject({
    platform: z.literal('webpush'),
    subscription: z.strictObject({
      endpoint: z.url({ protocol: /^https$/, error: 'subscription.endpoint must be an https URL' }).max(MAX_ENDPOINT_LENGTH),
      keys: z.object({ p256dh: base64url('keys.p256dh'), auth: base64url('keys.auth') }),
    }),
  }),
])

const deviceSchema = z.object({ id: z.string(), platform: z.enum(['apns', 'fcm', 'webpush']), createdAt: z.number(), lastSentAt: z.number().nullable() })
const idParams = z.strictObject({ id: z.string().min(1).max(64) })

export function deviceRoutes(deps: RestDependencies): RouteDefinition[] {
  const { storage, logger } = deps
  return [
    userRoute(
      {
        method: 'post',
        path: '/api/v1/devices',
        tag: 'devices',
        summary: 'Register a push device',
        description: `\`{ platform: "apns" | "fcm", token }\` or \`{ platform: "webpush", subscription: { endpoint, keys: { p256dh, auth } } }\`. The same token (or endpoint) again answers the same id; at most ${MAX_DEVICES_PER_USER} devices per user (the oldest is replaced).`,
        body: registrationSchema,
        responses: { 201: { description: 'The device id', schema: z.object({ id: z.string() }) } },
        errors: [400, 401, 413, 503],
      },
      async ({ c, body, user }) => {
        const platform: DevicePlatform = body.platform
        const token = body.platform === 'webpush' ? JSON.stringify({ endpoint: body.subscription.endpoint, keys: body.subscription.keys }) : body.token
        const id = deviceId(user.id, platform, token)
        try {
          const { removed } = await storage.devices.register(
            { id, userId: user.id, platform, token, createdAt: Date.now(), lastSentAt: null },
            MAX_DEVICES_PER_USER,
          )
          if (removed.length > 0) logger.info({ userId: user.id, removed }, 'older devices replaced')
          return c.json({ id }, 201)
        } catch (error) {
          logger.error({ err: error, userId: user.id }, 'a device could not be stored')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
    userRoute(
      {
        method: 'get',
        path: '/api/v1/devices',
        tag: 'devices',
        summary: "The caller's push devices",
        description: 'Oldest first, without their tokens.',
        query: z.strictObject({}),
        responses: { 200: { description: 'The devices', schema: z.object({ devices: z.array(deviceSchema) }) } },
        errors: [400, 401, 503],
      },
      async ({ c, user }) => {
        try {
          const devices = await storage.devices.list(user.id)
          return c.json({ devices: devices.map(({ id, platform, createdAt, lastSentAt }) => ({ id, platform, createdAt, lastSentAt })) })
        } catch (error) {
          logger.error({ err: error, userId: user.id }, 'devices could not be read')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
    userRoute(
      {
        method: 'delete',
        path: '/api/v1/devices/:id',
        tag: 'devices',
        summary: 'Remove a push device',
        params: idParams,
        responses: { 204: { description: 'Removed' } },
        errors: [400, 401, 404, 503],
      },
      async ({ c, params, user }) => {
        try {
          if (await storage.devices.remove(user.id, params.id)) return c.body(null, 204)
          return errorResponse(c, { code: ErrorCode.NotFound, message: `no device ${params.id} of yours` })
        } catch (error) {
          logger.error({ err: error, userId: user.id }, 'a device could not be removed')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
  ]
}
