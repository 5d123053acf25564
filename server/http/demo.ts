/**
 * Dev mode only: the demo web app (`npm run build:demo`) at `/` and `POST /dev/token`, which hands
 * the page a token for the user it picked, so that no secret is in the browser. Outside dev mode
 * `/` is not served and `POST /dev/token` answers 403 `forbidden`.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { serveStatic } from '@hono/node-server/serve-static'
import type { Hono, MiddlewareHandler } from 'hono'
import { ErrorCode, isValidId } from '../../protocol/index.ts'
import { jsonError } from './errors.ts'

/** Where `npm run build:demo` writes the demo, relative to the working directory. */
export const DEFAULT_DEMO_DIR = 'dist/demo'

/** Longest display name `POST /dev/token` puts in a token. */
export const DEV_TOKEN_MAX_NAME_LENGTH = 200

export interface DemoOptions {
  /** The built demo (`index.html`, `assets/`). */
  dir: string
  /** Signs a token for the user with the dev secret. */
  token(userId: string, name: string): Promise<string>
}

async function readBody(request: Request): Promise<{ userId?: unknown; name?: unknown } | null> {
  try {
    const body: unknown = await request.json()
    return typeof body === 'object' && body !== null ? body : null
  } catch {
    return null
  }
}

/** Mounts the dev routes; `demo` undefined (not dev mode): the token route refuses, `/` is not served. */
export function mountDemo(app: Hono, demo: DemoOptions | undefined): void {
  app.post('/dev/token', async (c) => {
    if (!demo) return jsonError(c, 403, ErrorCode.Forbidden, 'POST /dev/token exists in dev mode only')
    const body = await readBody(c.req.raw)
    const userId = body?.userId
    if (typeof userId !== 'string' || !isValidId(userId)) return jsonError(c, 400, ErrorCode.InvalidRequest, 'userId must be a valid id')
    const name = body?.name ?? userId
    if (typeof name !== 'string' || name.length === 0 || name.length > DEV_TOKEN_MAX_NAME_LENGTH)
      return jsonError(c, 400, ErrorCode.InvalidRequest, `name must be 1–${DEV_TOKEN_MAX_NAME_LENGTH} characters`)
    return c.json({ token: await demo.token(userId, name) })
  })
  if (!demo) return
  const root = path.resolve(demo.dir)
  // Made at the first request after the demo is built: serveStatic warns at once about a missing root.
  let statics: { index: MiddlewareHandler; assets: MiddlewareHandler } | undefined
  const built = () =>
    existsSync(path.join(root, 'index.html')) ? (statics ??= { index: serveStatic({ root, path: 'index.html' }), assets: serveStatic({ root }) }) : undefined
  app.get('/', async (c, next) => {
    const served = built()
    if (served) return served.index(c, next)
    return jsonError(c, 404, ErrorCode.NotFound, `the demo is not built: run npm run build:demo (looked in ${root})`)
  })
  app.get('/assets/*', async (c, next) => {
    const served = built()
    return served ? served.assets(c, next) : next()
  })
}
