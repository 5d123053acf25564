/**
 * The SDK as its own package (issue 24): `@parley/client` (client/package.json, an npm workspace)
 * packs to a tarball holding the compiled client and protocol/, installs from that tarball into an
 * empty app without any of the server's dependencies, and the installed copy, run as plain
 * JavaScript the way Node runs code inside node_modules, writes a comment a real server stores.
 *
 * The install uses `--prefer-offline`: the packages come from npm's cache, which `npm ci` filled.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Thread } from '../../protocol/index.ts'
import { ROOT, cleanEnv } from '../helpers/child.ts'
import { rest } from '../helpers/rest.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { dependencyNames, directorySize, npmEnv, packedFiles } from './npm.ts'

const run = promisify(execFile)

/** The server's own dependencies: none of them may reach an app that installs the SDK. */
const SERVER_ONLY = [
  'better-sqlite3',
  'pg',
  'ioredis',
  'hono',
  '@hono/node-server',
  'pino',
  'prom-client',
  '@hocuspocus/server',
  'zod',
  'web-push',
  'nodemailer',
  'ws',
]

/** What the SDK needs, and so what an app installing it gets. */
const CLIENT_DEPENDENCIES = ['@hocuspocus/provider', 'jose', 'lib0', 'y-protocols', 'yjs']

/** An app that installs the SDK gets at most this many packages (measured: 9, the SDK included). */
const MAX_PACKAGES = 12

/** ... taking at most this many bytes of files (measured: 7.35 MB; the server package: 67 MB). */
const MAX_INSTALL_BYTES = 12 * 1024 * 1024

describe('the @parley/client package', () => {
  const work = tempDir('parley-client-package-')
  const app = path.join(work, 'app')
  let tarball = ''
  let s: TestServer

  beforeAll(async () => {
    s = await startServer()
    const packed = await run('npm', ['pack', '--workspace', 'client', '--json', '--pack-destination', work], { cwd: ROOT, env: npmEnv({}) })
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string }>
    if (!info) throw new Error(`npm pack printed no package:\n${packed.stdout}`)
    tarball = path.join(work, info.filename)
    mkdirSync(app)
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }))
    await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: npmEnv({}) })
  }, 180_000)

  afterAll(async () => {
    await s.dispose()
    rmSync(work, { recursive: true, force: true })
  })

  it('packs the compiled client and protocol, and nothing of the server', async () => {
    const files = await packedFiles(tarball)
    expect(files).toContain('package.json')
    expect(files).toContain('dist/client/index.js')
    expect(files).toContain('dist/protocol/index.js')
    const manifest = JSON.parse(readFileSync(path.join(app, 'node_modules/@parley/client/package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string }>
      dependencies: Record<string, string>
    }
    // Every entry point the package offers is in the tarball.
    for (const entry of Object.values(manifest.exports)) {
      expect(files).toContain(entry.default.replace(/^\.\//, ''))
      expect(files).toContain(entry.types.replace(/^\.\//, ''))
    }
    expect(files.filter((file) => !/^dist\/(client|protocol)\//.test(file) && file !== 'package.json' && file !== 'README.md')).toEqual([])
    expect(Object.keys(manifest.dependencies).sort()).toEqual(CLIENT_DEPENDENCIES)
    // Browser-safe: only the file store (its own entry point) touches Node's built-in modules.
    const installed = path.join(app, 'node_modules/@parley/client')
    const usingNode = files.filter((file) => file.endsWith('.js') && /from ['"]node:/.test(readFileSync(path.join(installed, file), 'utf8')))
    expect(usingNode).toEqual(['dist/client/stores/file.js'])
  })

  it('installs from the tarball with only client dependencies', async () => {
    const names = await dependencyNames(app)
    expect(names).toContain('@parley/client')
    for (const name of CLIENT_DEPENDENCIES) expect(names).toContain(name)
    for (const name of SERVER_ONLY) expect(names).not.toContain(name)
    expect(names.length).toBeLessThanOrEqual(MAX_PACKAGES)
    expect(directorySize(path.join(app, 'node_modules'))).toBeLessThan(MAX_INSTALL_BYTES)
  })

  it('type-checks in a browser app: DOM types only, no Node types, bundler resolution', async () => {
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'bundler',
        lib: ['ES2022', 'DOM'],
        types: [],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      include: ['main.ts'],
    }
    writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify(tsconfig))
    writeFileSync(
      path.join(app, 'main.ts'),
      [
        "import { createParleyClient, IndexedDbStore, type ParleyClient } from '@parley/client'",
        "import { ErrorCode, type Thread } from '@parley/client/protocol'",
        "export const open = (token: string): Promise<ParleyClient> => createParleyClient({ url: 'wss://example.com', token, store: new IndexedDbStore('app') })",
        'export const forbidden: string = ErrorCode.Forbidden',
        'export const count = (threads: Thread[]): number => threads.length',
      ].join('\n'),
    )
    const check = await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app }).catch(
      (error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) }),
    )
    expect(check.stdout + check.stderr).toBe('')
  })

  it('runs from node_modules as plain JavaScript and writes a comment the server stores', async () => {
    const token = await s.token('ana', { name: 'Ana' })
    const script = `
      import { createParleyClient } from '@parley/client'
      import { ErrorCode } from '@parley/client/protocol'
      const client = await createParleyClient({ url: process.env.URL, token: process.env.TOKEN })
      const comments = client.comments('packaged')
      await comments.whenSynced()
      const { threadId } = comments.createThread('hello from the tarball')
      const deadline = Date.now() + 10_000
      while (comments.sending > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      console.log(JSON.stringify({ threadId, sending: comments.sending, forbidden: ErrorCode.Forbidden }))
      await client.close()
    `
    const child = await run(process.execPath, ['--no-experimental-strip-types', '--input-type=module', '-e', script], {
      cwd: app,
      env: cleanEnv({ URL: s.server.webSocketUrl, TOKEN: token }),
      timeout: 20_000,
    })
    const result = JSON.parse(child.stdout.trim()) as { threadId: string; sending: number; forbidden: string }
    expect(result.sending).toBe(0)
    expect(result.forbidden).toBe('forbidden')
    const listing = await rest<{ threads: Thread[] }>(s, 'GET', '/api/v1/subjects/packaged/threads', { bearer: token })
    expect(listing.status).toBe(200)
    expect(listing.body.threads.map((t) => ({ id: t.id, text: t.comments[0]?.text }))).toEqual([{ id: result.threadId, text: 'hello from the tarball' }])
  })
})
