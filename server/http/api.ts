/**
 * The REST API under `/api/v1`: every route module, the body size limit, and the OpenAPI
 * description generated from the same route declarations.
 */
import type { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { ErrorCode } from '../../protocol/index.ts'
import type { RequestCredentials } from './credentials.ts'
import { mountCors } from './cors.ts'
import { jsonError } from './errors.ts'
import { OPENAPI_PATH, openApiDocument } from './openapi.ts'
import { mountRoutes, type RouteDefinition } from './route.ts'
import type { RestDependencies } from './routes/context.ts'
import { banRoutes } from './routes/bans.ts'
import { commentRoutes } from './routes/comments.ts'
import { memberRoutes } from './routes/members.ts'
import { moderationRoutes } from './routes/moderation.ts'
import { notificationRoutes } from './routes/notifications.ts'
import { preferenceRoutes } from './routes/preferences.ts'
import { deviceRoutes } from './routes/devices.ts'
import { deliveryRoutes } from './routes/deliveries.ts'
import { presenceRoutes } from './routes/presence.ts'
import { searchRoutes } from './routes/search.ts'
import { subjectRoutes } from './routes/subjects.ts'
import { threadStateRoutes } from './routes/thread-state.ts'
import { threadRoutes } from './routes/threads.ts'
import { userRoutes } from './routes/users.ts'
import { feedRoutes } from './routes/feeds.ts'
import { trendingRoutes } from './routes/trending.ts'
import { unsubscribeRoutes } from './routes/unsubscribe.ts'

/** Largest REST request body; a larger one is answered 413 `too_large`. */
export const MAX_REST_BODY_BYTES = 256 * 1024

/** `info.version` of the OpenAPI description. */
export const API_VERSION = '1.0.0'

export interface RestApi {
  routes: readonly RouteDefinition[]
  credentials: RequestCredentials
  /** Origins whose browser apps may call the user routes (`PARLEY_CORS_ORIGINS`); none when absent. */
  corsOrigins?: readonly string[] | undefined
}

export function createRestRoutes(deps: RestDependencies): RouteDefinition[] {
  return [
    ...subjectRoutes(deps),
    ...memberRoutes(deps),
    ...threadRoutes(deps),
    ...commentRoutes(deps),
    ...threadStateRoutes(deps),
    ...moderationRoutes(deps),
    ...banRoutes(deps),
    ...userRoutes(deps),
    ...presenceRoutes(deps),
    ...notificationRoutes(deps),
    ...preferenceRoutes(deps),
    ...deviceRoutes(deps),
    ...deliveryRoutes(deps),
    ...searchRoutes(deps),
    ...feedRoutes(deps),
    ...trendingRoutes(deps),
    ...unsubscribeRoutes(deps),
  ]
}

/**
 * A body refused as too large is still read, up to this many bytes, before the 413 goes out: a
 * client still sending would otherwise see its connection closed under it instead of the answer.
 * Past it the connection is closed after the answer.
 */
export const MAX_DRAINED_BODY_BYTES = 1024 * 1024

/** Reads and drops what is left of a request body, up to `limit` bytes. */
async function drain(body: ReadableStream<Uint8Array>, limit: number): Promise<void> {
  const reader = body.getReader()
  let read = 0
  try {
    while (read <= limit) {
      const { done, value } = await reader.read()
      if (done) return
      read += value.byteLength
    }
    await reader.cancel()
  } catch {
    // The client went away: nothing to answer.
  }
}

export function mountRestApi(app: Hono, api: RestApi): void {
  // `c.req.raw` builds a whole web Request: only touched when a body matters, not on every GET.
  app.use('/api/*', async (c, next) => {
    await next()
    if (c.res.status !== 413) return
    const body = c.req.raw.body
    if (body && !c.req.raw.bodyUsed && !body.locked) await drain(body, MAX_DRAINED_BODY_BYTES)
  })
  const limitBody = bodyLimit({
    maxSize: MAX_REST_BODY_BYTES,
    onError: (c) => jsonError(c, 413, ErrorCode.TooLarge, `the body is over ${MAX_REST_BODY_BYTES} bytes`),
  })
  app.use('/api/*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)))
  const document = openApiDocument(api.routes, API_VERSION)
  app.get(OPENAPI_PATH, (c) => c.json(document))
  mountCors(app, api.routes, api.corsOrigins ?? [], (authorization) => api.credentials.backend(authorization).ok)
  mountRoutes(app, api.routes, api.credentials)
}
