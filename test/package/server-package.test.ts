/**
 * The server package's tarball runs its own scripts (issue 24): `npm start` and `npm run token` name
 * `bin/parley.js`, which the tarball holds, and which loads the compiled CLI from `dist/` where the
 * TypeScript source is absent. Every `bin` and `exports` target is in the tarball too.
 */
import { execFile, spawn } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, trackChild } from '../helpers/child.ts'
import { descendants, isAlive } from '../helpers/processes.ts'
import { tempDir } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { npmEnv, packedFiles } from './npm.ts'

const run = promisify(execFile)

interface Manifest {
  bin: Record<string, string>
  exports: Record<string, { types: string; default: string }>
  scripts: Record<string, string>
}

/** The scripts someone who installed the package runs; the rest (test, lint, bench, build) need a checkout. */
const USER_SCRIPTS = ['start', 'token']

describe('the parley package tarball', () => {
  const work = tempDir('parley-server-package-')
  const unpacked = path.join(work, 'package')
  let files: string[] = []
  let manifest: Manifest

  beforeAll(async () => {
    const packed = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, env: npmEnv({}), maxBuffer: 16 * 1024 * 1024 })
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string }>
    if (!info) throw new Error(`npm pack printed no package:\n${packed.stdout}`)
    const tarball = path.join(work, info.filename)
    files = await packedFiles(tarball)
    await run('tar', ['-xzf', tarball, '-C', work])
    manifest = JSON.parse(readFileSync(path.join(unpacked, 'package.json'), 'utf8')) as Manifest
    // The dependencies a real install would bring, from this checkout.
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(unpacked, 'node_modules'))
  }, 180_000)

  afterAll(() => rmSync(work, { recursive: true, force: true }))

  it('holds every file its bin, exports and user scripts name', () => {
    const strip = (file: string) => file.replace(/^\.\//, '')
    for (const target of Object.values(manifest.bin)) expect(files).toContain(strip(target))
    for (const entry of Object.values(manifest.exports)) {
      expect(files).toContain(strip(entry.default))
      expect(files).toContain(strip(entry.types))
    }
    for (const name of USER_SCRIPTS) {
      const script = manifest.scripts[name] ?? ''
      const named = script.split(/\s+/).filter((word) => /\.(js|ts|mjs|cjs)$/.test(word))
      expect(named, `scripts.${name}: ${script}`).not.toEqual([])
      for (const file of named) expect(files, `scripts.${name} names ${file}`).toContain(file)
    }
    expect(files.some((file) => file.startsWith('server/'))).toBe(false)
  })

  it('runs `npm run token` from the unpacked tarball, on the compiled CLI', async () => {
    const dataDir = path.join(work, 'data')
    mkdirSync(dataDir)
    const token = await run('npm', ['run', '-s', 'token', '--', '--user', 'ana'], { cwd: unpacked, env: npmEnv({ PARLEY_DATA_DIR: dataDir }) })
    expect(token.stderr).toBe('')
    const [, payload] = token.stdout.trim().split('.')
    expect(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString())).toMatchObject({ sub: 'ana', access: { '*': 'comment' } })
  })

  /** Starts a command that serves Parley, checks /health, sends SIGTERM to the command alone and waits for its whole tree to stop. */
  async function serveThenTerminate(command: string, args: string[], cwd: string, dataDir: string, stopped: RegExp): Promise<void> {
    mkdirSync(dataDir)
    const child = trackChild(
      spawn(command, args, { cwd, env: npmEnv({ PORT: '0', HOST: '127.0.0.1', PARLEY_DATA_DIR: dataDir }), stdio: ['ignore', 'pipe', 'pipe'], detached: true }),
      { group: true },
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    let exited = false
    child.once('exit', () => (exited = true))
    let port = 0
    await waitFor(
      () => {
        port = Number(/"port":(\d+)[^\n]*"msg":"listening"/.exec(out)?.[1] ?? 0)
        return port > 0
      },
      `${command} ${args.join(' ')} listening; output so far:\n${out}`,
      30_000,
    )
    const tree = descendants(child.pid ?? 0)
    expect(await (await fetch(`http://127.0.0.1:${port}/health`)).json()).toEqual({ status: 'ok' })
    process.kill(child.pid ?? 0, 'SIGTERM')
    await waitFor(() => exited && tree.every((pid) => !isAlive(pid)), `${command} and the server from the tarball stopped`, 15_000)
    expect(out).toMatch(stopped)
  }

  it('runs `npm start` from the unpacked tarball, and SIGTERM to npm alone stops the server', async () => {
    await serveThenTerminate('npm', ['start'], unpacked, path.join(work, 'data-start'), /"signal":"SIGTERM"[^\n]*"msg":"shutting down"/)
  }, 60_000)

  it('runs `npx parley serve` in an app that installed the tarball, and SIGTERM to npx alone stops the server', async () => {
    const app = path.join(work, 'app')
    mkdirSync(path.join(app, 'node_modules', '.bin'), { recursive: true })
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies: { parley: '*' } }))
    symlinkSync(unpacked, path.join(app, 'node_modules', 'parley'))
    // What npm install does for a package's bin (bin-links): a link in .bin, the target made executable.
    const bin = manifest.bin.parley ?? ''
    chmodSync(path.join(unpacked, bin), 0o755)
    symlinkSync(path.join('..', 'parley', bin), path.join(app, 'node_modules', '.bin', 'parley'))
    // npx signals the `sh -c` it runs the bin under, which exits without passing the signal on: the
    // server sees its launcher gone and stops gracefully (server/bin/serve.ts, watchLauncher).
    await serveThenTerminate(
      'npx',
      ['--no-install', 'parley', 'serve'],
      app,
      path.join(work, 'data-npx'),
      /"reason":"launcher exited"[^\n]*"msg":"shutting down"/,
    )
  }, 60_000)
})
