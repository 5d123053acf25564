/**
 * The shutdown deadline (issue 24): when the graceful shutdown cannot finish (here its database stops
 * answering: a proxy in front of PostgreSQL goes silent), `parley serve` still exits on SIGTERM,
 * with code 3 and an `error` line once PARLEY_SHUTDOWN_TIMEOUT_MS has passed.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { signToken } from '../../server/auth/sign.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { createTestSchema, sharedDatabaseUrl, type TestSchema } from '../helpers/postgres.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { waitFor } from '../helpers/wait.ts'

const SECRET = 'd'.repeat(40)
const DEADLINE_MS = 2_000
/** What the exit may take beyond the deadline (process start-up of the timer, a loaded machine). */
const EXIT_MARGIN_MS = 3_000

/** A TCP proxy to PostgreSQL that can go silent: once frozen it forwards nothing either way. */
async function silenceableProxy(target: URL): Promise<{ port: number; freeze(): void; close(): void }> {
  let frozen = false
  const sockets: Socket[] = []
  const server: Server = createServer((client) => {
    const upstream = createConnection(Number(target.port || 5432), target.hostname)
    sockets.push(client, upstream)
    client.on('data', (chunk) => (frozen ? undefined : upstream.write(chunk)))
    upstream.on('data', (chunk) => (frozen ? undefined : client.write(chunk)))
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (typeof address !== 'object' || !address) throw new Error('proxy has no port')
  return {
    port: address.port,
    freeze: () => (frozen = true),
    close: () => {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}

describe('parley serve shutdown deadline', () => {
  const cleanups: Array<() => unknown> = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  it('exits with code 3 when the graceful shutdown hangs past PARLEY_SHUTDOWN_TIMEOUT_MS', async () => {
    const schema: TestSchema = await createTestSchema()
    cleanups.push(() => schema.drop())
    const base = new URL(sharedDatabaseUrl())
    const proxy = await silenceableProxy(base)
    cleanups.push(() => proxy.close())
    const viaProxy = new URL(schema.url)
    viaProxy.hostname = '127.0.0.1'
    viaProxy.port = String(proxy.port)
    const child: ChildServer = await startChild({
      DATABASE_URL: viaProxy.toString(),
      PARLEY_JWT_SECRET: SECRET,
      PARLEY_SHUTDOWN_TIMEOUT_MS: String(DEADLINE_MS),
    })
    cleanups.push(() => child.process.kill('SIGKILL'))
    const client: TestClient = await connectSynced(child.webSocketUrl, 'comments/deadline', await signToken({ sub: 'ana' }, SECRET))
    cleanups.push(() => client.destroy())
    proxy.freeze()
    let code: number | null | undefined
    void child.exited.then((c) => (code = c))
    const signalledAt = Date.now()
    child.process.kill('SIGTERM')
    await waitFor(() => code !== undefined, 'parley serve exited', DEADLINE_MS + EXIT_MARGIN_MS)
    expect(code, child.output()).toBe(3)
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(DEADLINE_MS - 100)
    expect(child.output()).toMatch(/"level":50[^\n]*"msg":"shutdown deadline passed: exiting"/)
  }, 60_000)
})
