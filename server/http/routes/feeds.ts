/**
 * Feeds over REST (issue 18): `GET /api/v1/feeds/:feedId/items` pages through every item of a
 * feed, newest first (whoever may read the feed, or the backend); `POST /api/v1/feeds/:feedId/items`
 * adds an integrator's item (backend), idempotent by `id`: it is recorded once and fanned out like
 * comment activity (its batch reaches the document by its priority).
 */
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { ErrorCode, FEED_PRIORITIES, feedDocumentName } from '../../../protocol/index.ts'
import type { FeedItemRecord } from '../../../core/feeds/aggregate.ts'
import type { FeedCursor } from '../../../core/storage/types.ts'
import { errorResponse, jsonError } from '../errors.ts'
import { backendRoute, userOrBackendRoute, type RouteDefinition } from '../route.ts'
import { idSchema } from '../schemas.ts'
import { decodeKeyset, encodeKeyset } from '../keyset-cursor.ts'
import type { RestDependencies } from './context.ts'

/** Items per page unless `limit` says otherwise. */
export const FEED_ITEMS_DEFAULT_LIMIT = 50

/** Most items per page. */
export const FEED_ITEMS_MAX_LIMIT = 200

/** Most actor ids an integrator's item carries. */
export const MAX_ITEM_ACTOR_IDS = 50

/** Longest summary of an integrator's item. */
export const MAX_SUMMARY_LENGTH = 500

const STORAGE_DOWN = { code: ErrorCode.StorageUnavailable, message: 'storage does not answer; retry later' }

export const feedItemSchema = z.object({
  id: z.string(),
  type: z.string(),
  actorIds: z.array(z.string()),
  subjectId: z.string().nullable(),
  threadId: z.string().nullable(),
  commentId: z.string().nullable(),
  summary: z.string(),
  count: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
})

function toJson(item: FeedItemRecord): z.infer<typeof feedItemSchema> {
  const { feedId: _feed, foldable: _foldable, ...rest } = item
  return rest
}

function encodeCursor(item: FeedItemRecord): string {
  return encodeKeyset(item.updatedAt, item.id)
}

function decodeCursor(cursor: string): FeedCursor | null {
  const keyset = decodeKeyset(cursor)
  return keyset && { updatedAt: keyset.time, id: keyset.id }
}

export function feedRoutes(deps: RestDependencies): RouteDefinition[] {
  const { storage, access, logger, feeds } = deps
  return [
    userOrBackendRoute(
      {
        method: 'get',
        path: '/api/v1/feeds/:feedId/items',
        tag: 'feeds',
        summary: 'A feed’s items, newest first',
        description:
          'Every item of `feed/<feedId>` (the document keeps only the latest `PARLEY_FEED_LIMIT`), ordered by `updatedAt`, then id, descending. ' +
          'The caller needs read on the feed document (`feed/user:<own id>`; `feed/subject:<id>` with read on the subject), or the API key. ' +
          'Pass `nextCursor` back as `cursor` for the next page; null: no more.',
        params: z.object({ feedId: idSchema }),
        query: z.object({
          limit: z.coerce.number().int().min(1).max(FEED_ITEMS_MAX_LIMIT).default(FEED_ITEMS_DEFAULT_LIMIT),
          cursor: z.string().max(400).optional(),
        }),
        responses: { 200: { description: 'A page of items', schema: z.object({ items: z.array(feedItemSchema), nextCursor: z.string().nullable() }) } },
        errors: [400, 401, 403, 503],
      },
      async ({ c, params, query, caller }) => {
        if (caller.kind === 'user') {
          const decision = await access.decide(caller.user, feedDocumentName(params.feedId))
          if (!decision.ok) return errorResponse(c, decision.error)
        }
        const after = query.cursor === undefined ? null : decodeCursor(query.cursor)
        if (query.cursor !== undefined && after === null) return jsonError(c, 400, ErrorCode.InvalidRequest, 'query.cursor: not a cursor this server issued')
        try {
          const page = await storage.feeds.list(params.feedId, { limit: query.limit, after })
          const last = page.at(-1)
          return c.json({ items: page.map(toJson), nextCursor: page.length === query.limit && last ? encodeCursor(last) : null })
        } catch (error) {
          logger.error({ err: error, feedId: params.feedId }, 'feed items could not be listed')
          return errorResponse(c, STORAGE_DOWN)
        }
      },
    ),
    backendRoute(
      {
        method: 'post',
        path: '/api/v1/feeds/:feedId/items',
        tag: 'feeds',
        summary: 'Add an integrator’s item to a feed',
        description:
          'Idempotent by `id` (generated when absent): the same id again answers 201 with that id and adds nothing. The item keeps its id and ' +
          'summary (it never folds) and reaches the document within its priority’s batching window (default `medium`).',
        params: z.object({ feedId: idSchema }),
        body: z.strictObject({
          id: idSchema.optional(),
          type: z.string().min(1).max(64),
          actorIds: z.array(idSchema).max(MAX_ITEM_ACTOR_IDS),
          subjectId: idSchema.optional(),
          summary: z.string().min(1).max(MAX_SUMMARY_LENGTH),
          priority: z.enum(FEED_PRIORITIES).optional(),
        }),
        responses: { 201: { description: 'The item’s id', schema: z.object({ id: z.string() }) } },
        errors: [400, 401, 403, 503],
      },
      async ({ c, params, body }) => {
        const id = body.id ?? randomUUID()
        try {
          await feeds.fanOut.record({
            id: `item:${params.feedId}:${id}`,
            kind: 'add',
            itemId: id,
            type: body.type,
            subjectId: body.subjectId ?? null,
            threadId: null,
            commentId: null,
            actorIds: body.actorIds,
            actorName: null,
            summary: body.summary,
            priority: body.priority ?? 'medium',
            at: feeds.clock.now(),
            feeds: [params.feedId],
            checkReaders: false,
          })
        } catch (error) {
          logger.error({ err: error, feedId: params.feedId }, 'a feed item could not be recorded')
          return errorResponse(c, STORAGE_DOWN)
        }
        return c.json({ id }, 201)
      },
    ),
  ]
}
