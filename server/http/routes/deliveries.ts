/**
 * Delivery visibility (contract additions, "Delivery"): a notification's deliveries for its owner,
 * dead deliveries for the backend, and a retry of one. A retry sets the delivery back to
 * `pending` with no attempts and queues the notification on its channel again.
 */
import { z } from 'zod'
import { ErrorCode } from '../../../protocol/index.ts'
import { DELIVERY_STATUSES, type DeliveryRecord } from '../../../core/delivery/deliveries.ts'
import { errorResponse } from '../errors.ts'
import { backendRoute, userRoute, type RouteDefinition } from '../route.ts'
import { idSchema } from '../schemas.ts'
import { decodeKeyset, encodeKeyset } from '../keyset-cursor.ts'
import type { RestDependencies } from './context.ts'

const STORAGE_DOWN = { code: ErrorCode.StorageUnavailable, message: 'storage does not answer; retry later' }
/** Deliveries per page of the backend's list, by default and at most. */
const DEFAULT_LIMIT = 50
const MAX_LIMIT = 200

const ownerView = z.object({
  channel: z.string(),
  deviceId: z.string().nullable(),
  status: z.enum(DELIVERY_STATUSES),
  reason: z.string().nullable(),
  attempts: z.number(),
  updatedAt: z.number(),
})
const backendView = ownerView.extend({ id: z.string(), userId: z.string(), notificationId: z.string() })

const toOwnerView = (d: DeliveryRecord) => ({
  channel: d.channel,
  deviceId: d.deviceId,
  status: d.status,
  reason: d.reason,
  attempts: d.attempts,
  updatedAt: d.updatedAt,
})
const toBackendView = (d: DeliveryRecord) => ({ id: d.id, userId: d.userId, notificationId: d.notificationId, ...toOwnerView(d) })

function encodeCursor(d: DeliveryRecord): string {
  return encodeKeyset(d.updatedAt, d.id)
}

function decodeCursor(cursor: string): { updatedAt: number; id: string } | null {
  const keyset = decodeKeyset(cursor)
  return keyset && { updatedAt: keyset.time, id: keyset.id }
}

export function deliveryRoutes(deps: RestDependencies): RouteDefinition[] {
  const { storage, logger, outbox } = deps
  return [
    userRoute(
      {
        method: 'get',
        path: '/api/v1/notifications/:id/deliveries',
        tag: 'notifications',
        summary: "A notification's deliveries (push, email) and their status",
        params: z.strictObject({ id: idSchema }),
        query: z.strictObject({}),
        responses: { 200: { description: 'Per channel and device', schema: z.object({ deliveries: z.array(ownerView) }) } },
        errors: [400, 401, 404, 503],
      },
      async ({ c, params, user }) => {
        try {
          if (!(await storage.notifications.get(user.id, params.id)))
            return errorResponse(c, { code: ErrorCode.NotFound, message: `no notification ${params.id} of yours` })
          return c.json({ deliveries: (await storage.deliveries.ofNotification(user.id, params.id)).map(toOwnerView) })
        } catch (error) {
          logger.error({ err: error, userId: user.id }, 'deliveries could not be read')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
    backendRoute(
      {
        method: 'get',
        path: '/api/v1/deliveries',
        tag: 'deliveries',
        summary: 'Deliveries by status (e.g. dead ones), most recent change first',
        query: z.strictObject({
          status: z.enum(DELIVERY_STATUSES).default('dead'),
          limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
          cursor: z.string().max(200).optional(),
        }),
        responses: { 200: { description: 'A page', schema: z.object({ deliveries: z.array(backendView), nextCursor: z.string().nullable() }) } },
        errors: [400, 401, 503],
      },
      async ({ c, query }) => {
        const after = query.cursor === undefined ? null : decodeCursor(query.cursor)
        if (query.cursor !== undefined && after === null)
          return errorResponse(c, { code: ErrorCode.InvalidRequest, message: 'cursor is not one this server gave' })
        try {
          const page = await storage.deliveries.list(query.status, query.limit, after)
          const last = page.at(-1)
          return c.json({ deliveries: page.map(toBackendView), nextCursor: page.length === query.limit && last ? encodeCursor(last) : null })
        } catch (error) {
          logger.error({ err: error }, 'deliveries could not be listed')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
    backendRoute(
      {
        method: 'post',
        path: '/api/v1/deliveries/:id/retry',
        tag: 'deliveries',
        summary: 'Try one delivery again',
        description: 'Sets it back to `pending` with no attempts and queues its notification on its channel; answers 202 at once.',
        params: z.strictObject({ id: z.string().min(1).max(64) }),
        responses: { 202: { description: 'Queued', schema: z.object({ id: z.string(), status: z.literal('pending') }) } },
        errors: [400, 401, 404, 503],
      },
      async ({ c, params }) => {
        try {
          const delivery = await storage.deliveries.get(params.id)
          if (!delivery) return errorResponse(c, { code: ErrorCode.NotFound, message: `no delivery ${params.id}` })
          const now = Date.now()
          await storage.deliveries.put({ ...delivery, status: 'pending', reason: null, attempts: 0, updatedAt: now })
          if (delivery.channel === 'webhook') {
            // a dead webhook (issue 17): its event goes back into the outbox, which the webhook loop polls
            await storage.webhooks.update(delivery.notificationId, { status: 'pending', attempts: 0, nextAt: now, lastError: null, updatedAt: now })
            return c.json({ id: delivery.id, status: 'pending' as const }, 202)
          }
          if (!(await storage.notifications.requeue(delivery.userId, delivery.notificationId, [delivery.channel], now))) {
            return errorResponse(c, { code: ErrorCode.NotFound, message: `the notification of delivery ${params.id} is gone` })
          }
          outbox.kick()
          return c.json({ id: delivery.id, status: 'pending' as const }, 202)
        } catch (error) {
          logger.error({ err: error }, 'a delivery could not be queued again')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
  ]
}
