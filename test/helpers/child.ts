/** Parley as a child process (`node server/bin/parley.ts serve`), for restarts and kill -9. */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from './wait.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const CLI = path.join(ROOT, 'server/bin/parley.ts')

/** Environment variables of the test runner that must not leak into a child server's config. */
const CONFIG_VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'PARLEY_JWT_SECRET',
  'PARLEY_JWT_PUBLIC_KEY',
  'PARLEY_JWKS_URL',
  'NODE_ENV',
  'PORT',
  'HOST',
  'PARLEY_DATA_DIR',
  'LOG_LEVEL',
  'PARLEY_UPDATES_PER_SECOND',
  'PARLEY_UPDATE_BURST',
  'PARLEY_FAULT',
  'PARLEY_FEED_LIMIT',
  'PARLEY_CONNECTIONS_PER_ADDRESS',
  'PARLEY_TRUSTED_PROXIES',
]

export function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !CONFIG_VARIABLES.includes(k)) env[k] = v
  return { ...env, ...extra }
}

/**
 * Every process a test spawns through `trackChild`: whatever a test does (fails before its own
 * cleanup, times out), they are killed when the test worker exits, so no test leaves one behind.
 * A detached child (its own process group, e.g. `npm start`) is killed with its whole group.
 */
const live = new Map<ChildProcess, boolean>()

/** Kills every tracked child still running (test/helpers/setup.ts calls it after each test file). */
export function killTrackedChildren(): void {
  for (const [child, group] of live) {
    live.delete(child)
    if (child.pid === undefined) continue
    // A group outlives its leader, so a group is killed even when its leader has exited.
    if (!group && (child.exitCode !== null || child.signalCode !== null)) continue
    try {
      process.kill(group ? -child.pid : child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

process.once('exit', killTrackedChildren)

export function trackChild<T extends ChildProcess>(child: T, options: { group?: boolean } = {}): T {
  live.set(child, options.group ?? false)
  child.once('exit', () => {
    // A group leader's exit does not end the rest of its group: keep it until the worker exits.
    if (!options.group) live.delete(child)
  })
  return child
}

export interface ChildServer {
  process: ChildProcess
  port: number
  httpUrl: string
  webSocketUrl: string
  output(): string
  exited: Promise<number | null>
}

/** Starts the CLI with PORT=0 and reads the bound port from its `listening` log line. */
export async function startChild(env: Record<string, string>): Promise<ChildServer> {
  const child = trackChild(
    spawn(process.execPath, [CLI, 'serve'], {
      cwd: ROOT,
      // Durability tests write hundreds of acknowledged updates a second, far past a person's rate.
      env: cleanEnv({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', PARLEY_UPDATES_PER_SECOND: '100000', PARLEY_UPDATE_BURST: '100000', ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  let port = 0
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`)
      const match = /"port":(\d+)[^\n]*"msg":"listening"/.exec(out)
      if (match?.[1]) port = Number(match[1])
      return port > 0
    },
    'child server listening',
    20_000,
  )
  return {
    process: child,
    port,
    httpUrl: `http://127.0.0.1:${port}`,
    webSocketUrl: `ws://127.0.0.1:${port}`,
    output: () => out,
    exited,
  }
}
