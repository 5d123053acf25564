/**
 * `GET /api/v1/trending` (user): subjects by comment velocity with exponential decay
 * (core/feeds/trending.ts), only those the caller may read. Storage keeps the subjects ordered by
 * rank; the route reads them page by page until it has enough readable ones (at most
 * {@link MAX_TRENDING_SCAN}), never every subject. With a half-life other than the stored one the
 * candidates are rescored from their recent activity.
 */
import { z } from 'zod'
import { commentsDocumentName, ErrorCode } from '../../../protocol/index.ts'
import { scoreAt, type TrendState } from '../../../core/feeds/trending.ts'
import { errorResponse } from '../errors.ts'
import { userRoute, type RouteDefinition } from '../route.ts'
import type { RestDependencies } from './context.ts'

/** Subjects unless `limit` says otherwise. */
export const TRENDING_DEFAULT_LIMIT = 10

/** Most subjects one answer holds. */
export const TRENDING_MAX_LIMIT = 100

/** Most ranked subjects one request reads (readable or not). */
export const MAX_TRENDING_SCAN = 1_000

/** Ranked subjects read from storage at once. */
export const TRENDING_PAGE = 100

/** Longest half-life a request may ask for (30 days, in minutes). */
export const MAX_HALF_LIFE_MINUTES = 30 * 24 * 60

export function trendingRoutes(deps: RestDependencies): RouteDefinition[] {
  const { storage, access, logger, feeds } = deps
  return [
    userRoute(
      {
        method: 'get',
        path: '/api/v1/trending',
        tag: 'feeds',
        summary: 'Trending subjects the caller may read',
        description:
          'Comment velocity with exponential decay: each comment weighs 1 when written and half as much every `halfLifeMinutes` (default 60). ' +
          '`comments` and `participants` count every comment and distinct commenter ever. Only subjects the caller may read.',
        query: z.object({
          limit: z.coerce.number().int().min(1).max(TRENDING_MAX_LIMIT).default(TRENDING_DEFAULT_LIMIT),
          halfLifeMinutes: z.coerce.number().positive().max(MAX_HALF_LIFE_MINUTES).optional(),
        }),
        responses: {
          200: {
            description: 'Subjects, highest score first',
            schema: z.object({
              subjects: z.array(z.object({ subjectId: z.string(), score: z.number(), comments: z.number(), participants: z.number() })),
            }),
          },
        },
        errors: [400, 401, 503],
      },
      async ({ c, query, user }) => {
        const stored = feeds.halfLifeMinutes * 60_000
        const halfLife = (query.halfLifeMinutes ?? feeds.halfLifeMinutes) * 60_000
        const now = feeds.clock.now()
        // The stored order is exact for the stored half-life; another one reorders a wider candidate set.
        const wanted = halfLife === stored ? query.limit : Math.min(MAX_TRENDING_SCAN, query.limit * 5)
        const readable: TrendState[] = []
        try {
          for (let offset = 0; offset < MAX_TRENDING_SCAN && readable.length < wanted; offset += TRENDING_PAGE) {
            const page = await storage.feeds.trending(TRENDING_PAGE, offset)
            const decisions = await Promise.all(page.map((state) => access.decide(user, commentsDocumentName(state.subjectId))))
            page.forEach((state, i) => {
              if (decisions[i]?.ok) readable.push(state)
            })
            if (page.length < TRENDING_PAGE) break
          }
        } catch (error) {
          logger.error({ err: error, userId: user.id }, 'trending subjects could not be read')
          return errorResponse(c, { code: ErrorCode.StorageUnavailable, message: 'storage does not answer; retry later' })
        }
        const subjects = readable
          .map((state) => ({
            subjectId: state.subjectId,
            score: scoreAt(state, now, halfLife, stored),
            comments: state.comments,
            participants: state.participants,
          }))
          .sort((a, b) => b.score - a.score || (a.subjectId < b.subjectId ? -1 : 1))
          .slice(0, query.limit)
        return c.json({ subjects })
      },
    ),
  ]
}
