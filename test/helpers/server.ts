/** A real Parley server on port 0 with its own data directory and secret. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createParleyServer, type ParleyServer, type ParleyServerOptions } from '../../server/server.ts'
import type { TokenClaims } from '../../server/auth/sign.ts'
import { newSecret, tokenFor } from './tokens.ts'

export interface TestServer {
  server: ParleyServer
  secret: string
  dataDir: string
  token(sub: string, extra?: Omit<TokenClaims, 'sub'>, expiresInSeconds?: number | null): Promise<string>
  /** Graceful close; the data directory stays for a restart. */
  stop(): Promise<void>
  /** Close and remove the data directory. */
  dispose(): Promise<void>
}

export function tempDir(prefix = 'parley-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix))
}

export async function startServer(options: ParleyServerOptions & { secret?: string } = {}): Promise<TestServer> {
  const secret = options.secret ?? newSecret()
  const dataDir = options.dataDir ?? tempDir()
  const server = await createParleyServer({
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    jwt: { kind: 'secret', secret },
    ...options,
    dataDir,
  })
  await server.listen()
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await server.close()
  }
  return {
    server,
    secret,
    dataDir,
    token: (sub, extra, expiresInSeconds) => tokenFor(secret, sub, extra, expiresInSeconds),
    stop,
    async dispose() {
      await stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
