/**
 * The user's notifications over REST: list (newest first, with a cursor; archived or not), unread
 * and unseen counts, mark read or seen (some, or all), and archive. Storage is the source of truth; a mark made here is projected into the
 * inbox document through the outbox, and one made in the document reaches storage, so both agree.
 */
import { z } from 'zod'
import { ErrorCode } from '../../../protocol/index.ts'
import { CHANNELS } from '../../../core/notifications/rules.ts'
import type { NotificationRecord } from '../../../core/storage/types.ts'
import { errorResponse, jsonError } from '../errors.ts'
import { userRoute, type RouteDefinition } from '../route.ts'
import { idSchema } from '../schemas.ts'
import { notificationUrl } from '../../../core/notifications/app-url.ts'
import { decodeKeyset, encodeKeyset } from '../keyset-cursor.ts'
import type { RestDependencies } from './context.ts'

/** Notifications per page unless `limit` says otherwise. */
export const NOTIFICATIONS_DEFAULT_LIMIT = 20

/** Most notifications per page. */
export const NOTIFICATIONS_MAX_LIMIT = 100

/** Most ids one mark-read call takes. */
export const MARK_READ_MAX_IDS = 500

const STORAGE_DOWN = { code: ErrorCode.StorageUnavailable, message: 'storage does not answer; retry later' }

export const notificationSchema = z.object({
  id: z.string(),
  kind: z.string(),
  priority: z.enum(['urgent', 'high', 'normal', 'low']),
  subjectId: z.string(),
  threadId: z.string().nullable(),
  commentId: z.string().nullable(),
  actors: z.array(z.string()),
  activityCount: z.number(),
  preview: z.string(),
  createdAt: z.number(),
  notifiedAt: z.number(),
  readAt: z.number().nullable(),
  seenAt: z.number().nullable(),
  archivedAt: z.number().nullable(),
  url: z.string().optional(),
})

function toJson(r: NotificationRecord, appUrl: string | undefined): z.infer<typeof notificationSchema> {
  const { userId: _user, version: _version, ...rest } = r
  return appUrl === undefined ? rest : { ...rest, url: notificationUrl(appUrl, r) }
}

function encodeCursor(r: NotificationRecord): string {
  return encodeKeyset(r.notifiedAt, r.id)
}

function decodeCursor(cursor: string): { notifiedAt: number; id: string } | null {
  const keyset = decodeKeyset(cursor)
  return keyset && { notifiedAt: keyset.time, id: keyset.id }
}

export function notificationRoutes(deps: RestDependencies): RouteDefinition[] {
  const { storage, logger, outbox } = deps
  return [
    userRoute(
      {
        method: 'get',
        path: '/api/v1/notifications',
        tag: 'notifications',
        summary: "The caller's notifications, newest first",
        description:
          'Ordered by `notifiedAt` (latest activity), then id. `archived=true` lists archived ones (default: those not archived). Pass `nextCursor` back as `cursor` for the next page; null: no more.',
        query: z.object({
          unread: z.enum(['true', 'false']).default('false'),
          archived: z.enum(['true', 'false']).default('false'),
          limit: z.coerce.number().int().min(1).max(NOTIFICATIONS_MAX_LIMIT).default(NOTIFICATIONS_DEFAULT_LIMIT),
          cursor: z.string().max(400).optional(),
        }),
        responses: {
          200: { description: 'A page of notifications', schema: z.object({ notifications: z.array(notificationSchema), nextCursor: z.string().nullable() }) },
        },
        errors: [400, 401, 503],
      },
      async ({ c, query, user }) => {
        const after = query.cursor === undefined ? null : decodeCursor(query.cursor)
        if (query.cursor !== undefined && after === null) return jsonError(c, 400, ErrorCode.InvalidRequest, 'query.cursor: not a cursor this server issued')
        try {
          const page = await storage.notifications.list(user.id, {
            unreadOnly: query.unread === 'true',
            archived: query.archived === 'true',
            limit: query.limit,
            after,
          })
          const last = page.at(-1)
          return c.json({ notifications: page.map((r) => toJson(r, deps.appUrl)), nextCursor: page.length === query.limit && last ? encodeCursor(last) : null })
        } catch (error) {
          logger.error({ err: error, userId: user.id }, 'notifications could not be listed')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
    userRoute(
      {
        method: 'get',
        path: '/api/v1/notifications/unread-count',
        tag: 'notifications',
        summary: 'How many of the caller’s notifications are unread, and how many unseen',
        description:
          'Unread: `readAt` null or earlier than `notifiedAt`; unseen (the badge): `seenAt` null or earlier than `notifiedAt`. Takes no query parameters (an unknown one is 400).',
        query: z.strictObject({}),
        responses: { 200: { description: 'The counts', schema: z.object({ count: z.number(), unseen: z.number() }) } },
        errors: [400, 401, 503],
      },
      async ({ c, user }) => {
        try {
          const [count, unseen] = await Promise.all([storage.notifications.unreadCount(user.id), storage.notifications.unseenCount(user.id)])
          return c.json({ count, unseen })
        } catch (error) {
          logger.error({ err: error, userId: user.id }, 'unread count failed')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
    userRoute(
      {
        method: 'post',
        path: '/api/v1/notifications/read',
        tag: 'notifications',
        summary: 'Mark notifications read',
        description:
          '`{ ids }` marks those (unknown or already read ids are skipped); `{ all: true }` marks every unread one. `updated` counts the notifications that changed.',
        body: z.union([z.strictObject({ ids: z.array(idSchema).min(1).max(MARK_READ_MAX_IDS) }), z.strictObject({ all: z.literal(true) })]),
        responses: { 200: { description: 'How many changed', schema: z.object({ updated: z.number() }) } },
        errors: [400, 401, 503],
      },
      async ({ c, body, user }) => {
        try {
          const changed = await storage.notifications.markRead(user.id, 'all' in body ? 'all' : body.ids, Date.now(), CHANNELS)
          if (changed.length > 0) outbox.kick()
          return c.json({ updated: changed.length })
        } catch (error) {
          logger.error({ err: error, userId: user.id }, 'marking read failed')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
    userRoute(
      {
        method: 'post',
        path: '/api/v1/notifications/seen',
        tag: 'notifications',
        summary: 'Mark notifications seen (the inbox was shown)',
        description:
          '`{ ids }` marks those (unknown or already seen ids are skipped); `{ all: true }` marks every unseen one. `seenAt` becomes the later of now and `notifiedAt`. `updated` counts the notifications that changed.',
        body: z.union([z.strictObject({ ids: z.array(idSchema).min(1).max(MARK_READ_MAX_IDS) }), z.strictObject({ all: z.literal(true) })]),
        responses: { 200: { description: 'How many changed', schema: z.object({ updated: z.number() }) } },
        errors: [400, 401, 503],
      },
      async ({ c, body, user }) => {
        try {
          const changed = await storage.notifications.markSeen(user.id, 'all' in body ? 'all' : body.ids, Date.now(), CHANNELS)
          if (changed.length > 0) outbox.kick()
          return c.json({ updated: changed.length })
        } catch (error) {
          logger.error({ err: error, userId: user.id }, 'marking seen failed')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
    userRoute(
      {
        method: 'post',
        path: '/api/v1/notifications/archive',
        tag: 'notifications',
        summary: 'Archive notifications',
        description:
          '`{ ids }` archives those (unknown or already archived ids are skipped); they leave the default list and appear with `archived=true`. `updated` counts the notifications that changed.',
        body: z.strictObject({ ids: z.array(idSchema).min(1).max(MARK_READ_MAX_IDS) }),
        responses: { 200: { description: 'How many changed', schema: z.object({ updated: z.number() }) } },
        errors: [400, 401, 503],
      },
      async ({ c, body, user }) => {
        try {
          const changed = await storage.notifications.archive(user.id, body.ids, Date.now(), CHANNELS)
          if (changed.length > 0) outbox.kick()
          return c.json({ updated: changed.length })
        } catch (error) {
          logger.error({ err: error, userId: user.id }, 'archiving failed')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
  ]
}
