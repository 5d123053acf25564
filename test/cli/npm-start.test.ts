/**
 * `npm start` under a process manager (issue 24): the script `exec`s node, so the server is npm's own
 * child and the SIGTERM npm forwards reaches it. SIGTERM to npm's process group (a terminal, a
 * container runtime) and to npm alone (systemd's main pid) both stop the server; nothing survives.
 */
import { spawn, spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, cleanEnv, trackChild } from '../helpers/child.ts'
import { descendants, isAlive } from '../helpers/processes.ts'
import { tempDir } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

// The directories holding a `node` that is not the project's own (the machine's Node 20).
const systemDirs = (process.env.PATH ?? '').split(path.delimiter).filter((dir) => !dir.includes('node_modules'))

async function npmStart() {
  const dataDir = tempDir()
  const child = trackChild(
    spawn('npm', ['start'], {
      cwd: ROOT,
      env: cleanEnv({ PATH: systemDirs.join(path.delimiter), PORT: '0', HOST: '127.0.0.1', PARLEY_DATA_DIR: dataDir }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
    { group: true },
  )
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  let exitCode: number | null | undefined
  child.once('exit', (code) => (exitCode = code))
  let port = 0
  await waitFor(
    () => {
      const match = /"port":(\d+)[^\n]*"msg":"listening"/.exec(out)
      if (match?.[1]) port = Number(match[1])
      return port > 0
    },
    `npm start listening; output so far:\n${out}`,
    30_000,
  )
  const npmPid = child.pid ?? 0
  const tree = descendants(npmPid)
  return {
    child,
    npmPid,
    tree,
    port,
    output: () => out,
    exited: () => exitCode !== undefined,
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  }
}

describe('npm start with the system Node first on PATH', () => {
  it('serves /health on the project’s own Node', async () => {
    const started = await npmStart()
    try {
      // Whatever Node the system has first on PATH, the server runs on the project's own (>= 22).
      const systemNode = spawnSync('node', ['--version'], { env: { PATH: systemDirs.join(path.delimiter) }, encoding: 'utf8' }).stdout.trim()
      const serverNode = /"node":"(\d+)\./.exec(started.output())?.[1]
      expect(Number(serverNode)).toBeGreaterThanOrEqual(22)
      expect(systemNode).toMatch(/^v\d+\./)
      const res = await fetch(`http://127.0.0.1:${started.port}/health`)
      expect(await res.json()).toEqual({ status: 'ok' })
    } finally {
      process.kill(-started.npmPid, 'SIGTERM')
      await waitFor(() => started.tree.every((pid) => !isAlive(pid)), 'the server under npm stopped', 15_000)
      started.cleanup()
    }
  }, 60_000)

  it.each([
    ['its process group', (npmPid: number) => process.kill(-npmPid, 'SIGTERM')],
    ['npm alone', (npmPid: number) => process.kill(npmPid, 'SIGTERM')],
  ])(
    'SIGTERM to %s stops npm and the server gracefully',
    async (_, signal) => {
      const started = await npmStart()
      try {
        expect(started.tree.length).toBeGreaterThan(0)
        signal(started.npmPid)
        await waitFor(() => started.exited() && started.tree.every((pid) => !isAlive(pid)), 'npm and the server stopped', 15_000)
        expect(started.output()).toMatch(/"signal":"SIGTERM"[^\n]*"msg":"shutting down"/)
        expect(started.output()).not.toContain('second signal')
      } finally {
        started.cleanup()
      }
    },
    60_000,
  )
})
