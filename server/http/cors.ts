/**
 * Cross-origin calls from browser apps (`PARLEY_CORS_ORIGINS`, contract additions "Environment").
 * Only user routes (a user's JWT) may be called from the listed origins: their preflight answers
 * 204 with the origin echoed (never `*`), the route's methods, and the `authorization` and
 * `content-type` headers; their answers echo the origin too. Backend (API-key) routes, and
 * every origin not listed, get a 403 preflight and no `Access-Control-Allow-Origin` at all.
 */
import type { Context, Hono } from 'hono'
import { err, ErrorCode, ok, type Result } from '../../protocol/index.ts'
import { jsonError } from './errors.ts'
import type { RouteDefinition } from './route.ts'

/** How long a browser may cache a preflight answer, in seconds. */
export const CORS_MAX_AGE_SECONDS = 600

/** Request headers a preflight allows. */
const ALLOWED_HEADERS = 'authorization, content-type'

/** Answer headers a browser app may read (the retry time of a 429). */
const EXPOSED_HEADERS = 'retry-after'

/** Comma-separated origins (`https://app.example.com`), each a scheme, host and optional port. */
export function parseCorsOrigins(value: string): Result<string[], string> {
  const origins: string[] = []
  for (const part of value.split(',')) {
    const candidate = part.trim()
    if (candidate === '') continue
    if (candidate === '*') return err('"*" is not allowed: list each origin')
    let url: URL
    try {
      url = new URL(candidate)
    } catch {
      return err(`"${candidate}" is not an origin (scheme://host[:port])`)
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== candidate.replace(/\/$/, '')) {
      return err(`"${candidate}" is not an origin (scheme://host[:port], no path)`)
    }
    origins.push(url.origin)
  }
  return ok(origins)
}

/** The methods of each path that users may call from a browser (backend-only paths have none). */
function userMethodsByPath(routes: readonly RouteDefinition[]): Map<string, Set<string>> {
  const byPath = new Map<string, Set<string>>()
  for (const route of routes) {
    const methods = byPath.get(route.spec.path) ?? new Set<string>()
    if (route.auth !== 'backend') methods.add(route.spec.method.toUpperCase())
    byPath.set(route.spec.path, methods)
  }
  return byPath
}

/**
 * Mounts the preflights and the answer headers; call before the routes are mounted. `isApiKey`
 * tells a backend's `Authorization` apart: a route open to users and the backend answers a call
 * made with the API key without CORS headers, so no browser page can read it.
 */
export function mountCors(
  app: Hono,
  routes: readonly RouteDefinition[],
  allowedOrigins: readonly string[],
  isApiKey: (authorization: string | undefined) => boolean,
): void {
  const allowed = new Set(allowedOrigins)
  const refuse = (c: Context) => jsonError(c, 403, ErrorCode.Forbidden, 'cross-origin calls to this route are not allowed')

  for (const [path, methods] of userMethodsByPath(routes)) {
    app.options(path, (c) => {
      const origin = c.req.header('origin')
      const method = c.req.header('access-control-request-method')?.toUpperCase()
      c.header('Vary', 'Origin')
      if (origin === undefined || !allowed.has(origin) || method === undefined || !methods.has(method)) return refuse(c)
      c.header('Access-Control-Allow-Origin', origin)
      c.header('Access-Control-Allow-Methods', [...methods].join(', '))
      c.header('Access-Control-Allow-Headers', ALLOWED_HEADERS)
      c.header('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS))
      return c.body(null, 204)
    })
  }
  for (const route of routes) {
    if (route.auth === 'backend') continue
    app.on(route.spec.method.toUpperCase(), route.spec.path, async (c, next) => {
      const origin = c.req.header('origin')
      if (origin !== undefined && allowed.has(origin) && !isApiKey(c.req.header('authorization'))) {
        c.header('Access-Control-Allow-Origin', origin)
        c.header('Access-Control-Expose-Headers', EXPOSED_HEADERS)
      }
      c.header('Vary', 'Origin')
      await next()
    })
  }
}
