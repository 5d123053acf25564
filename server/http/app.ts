/**
 * The HTTP routes, on the WebSocket's port. Hono: a small, well-known router with typed
 * handlers and zod/OpenAPI integrations for the REST API that later issues add.
 */
import { Hono } from 'hono'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { err, ErrorCode, OK, type Result } from '../../protocol/index.ts'
import { mountRestApi, type RestApi } from './api.ts'
import { mountDemo, type DemoOptions } from './demo.ts'
import { jsonError } from './errors.ts'

/** A dependency `/ready` checks: resolves when it answers, rejects with the reason otherwise. */
export interface ReadinessCheck {
  name: string
  check(): Promise<void>
}

/** How long `/ready` waits for one check before calling it failed. */
export const READY_CHECK_TIMEOUT_MS = 2_000

export interface HttpDependencies {
  logger: Logger
  readiness: ReadinessCheck[]
  metrics: Registry
  metricsToken: string | undefined
  /** The REST API under `/api/v1`; absent: those paths answer 404. */
  api?: RestApi | undefined
  /** Dev mode: the demo at `/` and `POST /dev/token` (server/http/demo.ts); absent: the token route refuses. */
  demo?: DemoOptions | undefined
}

async function runCheck(check: ReadinessCheck): Promise<Result<void, string>> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${READY_CHECK_TIMEOUT_MS} ms`)), READY_CHECK_TIMEOUT_MS)
  })
  try {
    await Promise.race([check.check(), timeout])
    return OK
  } catch (error) {
    return err(error instanceof Error ? error.message : String(error))
  } finally {
    clearTimeout(timer)
  }
}

export function createHttpApp(deps: HttpDependencies): Hono {
  const app = new Hono()

  app.get('/health', (c) => c.json({ status: 'ok' }))

  app.get('/ready', async (c) => {
    const results = await Promise.all(deps.readiness.map(async (check) => [check.name, await runCheck(check)] as const))
    const checks = Object.fromEntries(results)
    const failing = results.filter(([, result]) => !result.ok).map(([name]) => name)
    if (failing.length === 0) return c.json({ status: 'ready', checks })
    return c.json({ status: 'unavailable', checks, error: { code: ErrorCode.NotReady, message: `failing: ${failing.join(', ')}` } }, 503)
  })

  app.get('/metrics', async (c) => {
    if (deps.metricsToken && c.req.header('authorization') !== `Bearer ${deps.metricsToken}`) {
      return jsonError(c, 401, ErrorCode.TokenInvalid, '/metrics needs the bearer PARLEY_METRICS_TOKEN')
    }
    return c.body(await deps.metrics.metrics(), 200, { 'content-type': deps.metrics.contentType })
  })

  if (deps.api) mountRestApi(app, deps.api)
  mountDemo(app, deps.demo)

  app.notFound((c) => jsonError(c, 404, ErrorCode.NotFound, `no route for ${c.req.method} ${c.req.path}`))

  app.onError((error, c) => {
    deps.logger.error({ err: error, path: c.req.path }, 'request failed')
    return jsonError(c, 500, ErrorCode.Internal, 'internal error')
  })

  return app
}
