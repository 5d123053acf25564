/**
 * REST routes declared once, as data: method, path, who may call, zod schemas for path
 * parameters, query and body, and the documented responses. The same declaration validates each
 * request (400 `invalid_request` naming the field) and generates the OpenAPI description
 * (openapi.ts), so the two cannot drift apart. A user's requests to user routes share one token
 * bucket (rate-limit.ts): past it they are answered 429 `rate_limited` with `Retry-After`.
 */
import type { Context, Hono } from 'hono'
import type { z } from 'zod'
import { err, ErrorCode, ok, type Result } from '../../protocol/index.ts'
import type { ParleyUser } from '../../core/auth/claims.ts'
import type { RequestCredentials } from './credentials.ts'
import { errorResponse, jsonError } from './errors.ts'
import { createUserRateLimiter, type UserRateLimiter } from './rate-limit.ts'
import { validationMessage } from './validation-message.ts'

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete'

/** Path parameters and queries are objects of strings; bodies are any JSON. */
type ObjectSchema = z.ZodObject
type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined

export interface ResponseSpec {
  description: string
  /** The JSON body; error responses share the contract's error shape. */
  schema?: z.ZodType
}

export interface RouteSpec<P extends ObjectSchema | undefined, Q extends ObjectSchema | undefined, B extends z.ZodType | undefined> {
  method: HttpMethod
  /** Hono syntax: `/api/v1/subjects/:subjectId`. */
  path: string
  summary: string
  description?: string
  tag: string
  params?: P
  query?: Q
  body?: B
  /** Success responses by status; the error statuses the route can answer are listed in `errors`. */
  responses: Record<number, ResponseSpec>
  errors: readonly number[]
}

export interface RouteInput<P, Q, B> {
  c: Context
  params: Parsed<P>
  query: Parsed<Q>
  body: Parsed<B>
}

/** A route with its types erased, ready to mount and to describe. */
export interface RouteDefinition {
  readonly spec: RouteSpec<ObjectSchema | undefined, ObjectSchema | undefined, z.ZodType | undefined>
  /** Who may call: `public` routes authenticate otherwise (the one-click unsubscribe's signed token). */
  readonly auth: 'user' | 'backend' | 'user-or-backend' | 'public'
  run(c: Context, credentials: RequestCredentials, limiter: UserRateLimiter): Promise<Response>
}

/** Status of a request refused by the per-user rate limit. */
const RATE_LIMITED_STATUS = 429

/** Every route a user may call can answer 429 (documented in the OpenAPI description). */
function withRateLimit<S extends { errors: readonly number[] }>(spec: S): S {
  return spec.errors.includes(RATE_LIMITED_STATUS) ? spec : { ...spec, errors: [...spec.errors, RATE_LIMITED_STATUS] }
}

/**
 * The 429 answer when the user's bucket is empty; null when the request may go on. A client that
 * ignored the `Retry-After` of an earlier 429 gets its answer only when that wait is over (at most
 * REST_TARPIT_MAX_MS, rate-limit.ts): requests sent in a loop without waiting cost a timer, not a CPU.
 */
async function rateLimited(c: Context, limiter: UserRateLimiter, userId: string): Promise<Response | null> {
  const decision = limiter.take(userId)
  if (decision.ok) return null
  await limiter.hold(decision.error.ignoredRetryAfterMs)
  c.header('Retry-After', String(decision.error.retryAfterSeconds))
  return jsonError(c, RATE_LIMITED_STATUS, ErrorCode.RateLimited, `too many requests; retry in ${decision.error.retryAfterSeconds} s`)
}

/** A validated part of a request, or the 400 that refuses it. */
type Validated = Result<unknown, Response>

function invalid(c: Context, where: string, error: z.ZodError, input: unknown): Validated {
  return err(jsonError(c, 400, ErrorCode.InvalidRequest, validationMessage(where, error, input)))
}

function validate(c: Context, where: string, schema: z.ZodType | undefined, value: unknown): Validated {
  if (!schema) return ok(undefined)
  const parsed = schema.safeParse(value)
  return parsed.success ? ok(parsed.data) : invalid(c, where, parsed.error, value)
}

async function readBody(c: Context, schema: z.ZodType | undefined): Promise<Validated> {
  if (!schema) return ok(undefined)
  const text = await c.req.text()
  // An optional body may be left out.
  if (text === '' && schema.safeParse(undefined).success) return ok(undefined)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return err(jsonError(c, 400, ErrorCode.InvalidRequest, 'the body must be JSON'))
  }
  return validate(c, 'body', schema, json)
}

/** A validated request before its types are restored by the route that declared the schemas. */
interface UntypedInput {
  c: Context
  params: unknown
  query: unknown
  body: unknown
}

async function parseInput(c: Context, spec: RouteDefinition['spec']): Promise<Result<UntypedInput, Response>> {
  const params = validate(c, 'params', spec.params, c.req.param())
  if (!params.ok) return params
  const query = validate(c, 'query', spec.query, c.req.query())
  if (!query.ok) return query
  const body = await readBody(c, spec.body)
  if (!body.ok) return body
  return ok({ c, params: params.value, query: query.value, body: body.value })
}

/** A route for users: `Authorization: Bearer <JWT>`. */
export function userRoute<
  P extends ObjectSchema | undefined = undefined,
  Q extends ObjectSchema | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B>, handler: (input: RouteInput<P, Q, B> & { user: ParleyUser }) => Promise<Response>): RouteDefinition {
  return {
    spec: withRateLimit(spec),
    auth: 'user',
    async run(c, credentials, limiter) {
      const user = await credentials.user(c.req.header('authorization'))
      if (!user.ok) return errorResponse(c, user.error)
      const limited = await rateLimited(c, limiter, user.value.id)
      if (limited) return limited
      const parsed = await parseInput(c, spec)
      if (!parsed.ok) return parsed.error
      return handler({ ...(parsed.value as RouteInput<P, Q, B>), user: user.value })
    },
  }
}

/** A route for the integrator's backend: `Authorization: Bearer <PARLEY_API_KEY>`. */
export function backendRoute<
  P extends ObjectSchema | undefined = undefined,
  Q extends ObjectSchema | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B>, handler: (input: RouteInput<P, Q, B>) => Promise<Response>): RouteDefinition {
  return {
    spec,
    auth: 'backend',
    async run(c, credentials) {
      const backend = credentials.backend(c.req.header('authorization'))
      if (!backend.ok) return errorResponse(c, backend.error)
      const parsed = await parseInput(c, spec)
      if (!parsed.ok) return parsed.error
      return handler(parsed.value as RouteInput<P, Q, B>)
    },
  }
}

/** A route without bearer credentials: the request carries its own proof (a signed token), which the handler checks. */
export function publicRoute<
  P extends ObjectSchema | undefined = undefined,
  Q extends ObjectSchema | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B>, handler: (input: RouteInput<P, Q, B>) => Promise<Response>): RouteDefinition {
  return {
    spec,
    auth: 'public',
    async run(c) {
      const parsed = await parseInput(c, spec)
      if (!parsed.ok) return parsed.error
      return handler(parsed.value as RouteInput<P, Q, B>)
    },
  }
}

/** Who called a route open to users and the backend. */
export type Caller = { kind: 'user'; user: ParleyUser } | { kind: 'backend' }

/** A route for users (their JWT) and for the integrator's backend (the API key). */
export function userOrBackendRoute<
  P extends ObjectSchema | undefined = undefined,
  Q extends ObjectSchema | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B>, handler: (input: RouteInput<P, Q, B> & { caller: Caller }) => Promise<Response>): RouteDefinition {
  return {
    spec: withRateLimit(spec),
    auth: 'user-or-backend',
    async run(c, credentials, limiter) {
      const authorization = c.req.header('authorization')
      let caller: Caller = { kind: 'backend' }
      if (!credentials.backend(authorization).ok) {
        const user = await credentials.user(authorization)
        if (!user.ok) return errorResponse(c, user.error)
        const limited = await rateLimited(c, limiter, user.value.id)
        if (limited) return limited
        caller = { kind: 'user', user: user.value }
      }
      const parsed = await parseInput(c, spec)
      if (!parsed.ok) return parsed.error
      return handler({ ...(parsed.value as RouteInput<P, Q, B>), caller })
    },
  }
}

/** Mounts every route on the app; the user routes share `limiter` (one per server). */
export function mountRoutes(
  app: Hono,
  routes: readonly RouteDefinition[],
  credentials: RequestCredentials,
  limiter: UserRateLimiter = createUserRateLimiter(),
): void {
  for (const route of routes) {
    app.on(route.spec.method.toUpperCase(), route.spec.path, (c) => route.run(c, credentials, limiter))
  }
}
