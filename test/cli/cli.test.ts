import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { jwtVerify } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { loadOrCreateDevSecret } from '../../server/auth/dev-secret.ts'
import { CLI, ROOT, cleanEnv, startChild, type ChildServer } from '../helpers/child.ts'
import { connectSynced } from '../helpers/provider.ts'
import { tempDir } from '../helpers/server.ts'

function runCli(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, env: cleanEnv(env), encoding: 'utf8', timeout: 20_000 })
}

describe('parley CLI', () => {
  const dirs: string[] = []
  const children: ChildServer[] = []
  afterEach(() => {
    for (const c of children.splice(0)) c.process.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ PARLEY_JWT_SECRET: 'short' }, 'PARLEY_JWT_SECRET'],
    [{ PARLEY_JWKS_URL: 'not a url' }, 'PARLEY_JWKS_URL'],
    [{ APNS_KEY_FILE: '/nonexistent/AuthKey.p8', APNS_KEY_ID: 'K', APNS_TEAM_ID: 'T', APNS_TOPIC: 'com.example.app' }, 'APNS_KEY_FILE'],
    [{ APNS_KEY_FILE: '/etc/hostname', APNS_KEY_ID: 'K', APNS_TEAM_ID: 'T', APNS_TOPIC: 'com.example.app' }, 'APNS_KEY_FILE'],
    [{ VAPID_PUBLIC_KEY: 'bad', VAPID_PRIVATE_KEY: 'bad', VAPID_SUBJECT: 'mailto:ops@example.com' }, 'VAPID_PUBLIC_KEY'],
    [{ FCM_SERVICE_ACCOUNT_FILE: '/etc/hostname' }, 'FCM_SERVICE_ACCOUNT_FILE'],
  ])('exits non-zero with one line naming the variable for %j', (env, variable) => {
    const result = runCli(['serve'], env)
    expect(result.status).not.toBe(0)
    const lines = result.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(variable)
    expect(result.stdout).toBe('')
  })

  it('refuses to start in production without a JWT key, with a one-line reason', () => {
    const result = runCli(['serve'], { NODE_ENV: 'production' })
    expect(result.status).not.toBe(0)
    const lines = result.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/production.*PARLEY_JWT_SECRET/)
  })

  it('prints a dev token signed with the dev secret, with the default access', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const result = runCli(['token', '--user', 'u_ana', '--name', 'Ana'], { PARLEY_DATA_DIR: dataDir })
    expect(result.status).toBe(0)
    const secret = loadOrCreateDevSecret(dataDir)
    const { payload } = await jwtVerify(result.stdout.trim(), new TextEncoder().encode(secret))
    expect(payload).toMatchObject({ sub: 'u_ana', name: 'Ana', access: { '*': 'comment' } })
    expect(payload.exp).toBeGreaterThan(Date.now() / 1000)
  })

  it('takes repeated --access and signs with PARLEY_JWT_SECRET when set', async () => {
    const secret = 'x'.repeat(40)
    const result = runCli(['token', '--user', 'bot', '--access', 'comments/*=moderate', '--access', 'feed/news=read'], { PARLEY_JWT_SECRET: secret })
    expect(result.status).toBe(0)
    const { payload } = await jwtVerify(result.stdout.trim(), new TextEncoder().encode(secret))
    expect(payload.access).toEqual({ 'comments/*': 'moderate', 'feed/news': 'read' })
  })

  it('rejects a malformed --access with a clear message', () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const result = runCli(['token', '--user', 'bot', '--access', 'comments/*=owner'], { PARLEY_DATA_DIR: dataDir })
    expect(result.status).not.toBe(0)
    expect(result.stderr).toMatch(/--access 'comments\/\*=owner'/)
  })

  it('dev mode: a token from `parley token` opens a document on `parley serve` with no configuration', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const child = await startChild({ PARLEY_DATA_DIR: dataDir })
    children.push(child)
    expect(child.output()).toContain('"devMode":true')
    const token = runCli(['token', '--user', 'ana'], { PARLEY_DATA_DIR: dataDir }).stdout.trim()
    const client = await connectSynced(child.webSocketUrl, 'comments/dev', token)
    client.destroy()
  })
})

// `npm start` (system Node first on PATH, signals): test/cli/npm-start.test.ts
