/**
 * The servers under test, each a child process on 127.0.0.1 with the probe preloaded:
 * `raw-ws` (bench/servers/raw-ws.ts), `hocuspocus` (bench/servers/hocuspocus.ts) and `parley`
 * (`server/bin/parley.ts serve` with a fresh data directory and JWT secret).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Role } from '../../protocol/index.ts'
import { signToken } from '../../server/auth/sign.ts'
import { CONFIG_VARIABLES } from '../../server/config.ts'
import type { ProbeListening, ProbeReply, ProbeRequest } from '../servers/probe.ts'
import { waitFor, withTimeout } from './wait.ts'

export const SERVER_KINDS = ['raw-ws', 'hocuspocus', 'parley'] as const

/**
 * Parley's extensions a measuring server can go without, by the short name its kind uses:
 * `parley-without-search+feeds` is Parley with its search and feeds extensions removed
 * (bench/servers/parley-without.ts). Run only when named with `--servers`.
 */
export const REMOVABLE_EXTENSIONS: Readonly<Record<string, string>> = {
  guard: 'parley-guard',
  search: 'parley-search',
  feeds: 'parley-feeds',
  mentions: 'parley-mentions',
  presence: 'parley-presence',
  metrics: 'parley-metrics',
  durability: 'parley-durability',
  inbox: 'parley-inbox',
  'join-cache': 'parley-join-cache',
}

/** Earlier names of two such servers, kept so that their commands in docs/PERFORMANCE.md still run. */
const ALIASES: Readonly<Record<string, string>> = { 'parley-unguarded': 'parley-without-guard', 'parley-unsearched': 'parley-without-search' }

const WITHOUT = 'parley-without-'

export type ServerKind = (typeof SERVER_KINDS)[number] | 'parley-unguarded' | 'parley-unsearched' | `parley-without-${string}`

/** The extensions a `parley-without-…` kind (or an alias) removes; undefined for any other string, or an unknown short name. */
export function removedExtensions(kind: string): string[] | undefined {
  const name = ALIASES[kind] ?? kind
  if (!name.startsWith(WITHOUT)) return undefined
  const removed = name
    .slice(WITHOUT.length)
    .split('+')
    .map((short) => REMOVABLE_EXTENSIONS[short])
  return removed.length > 0 && removed.every((extension) => extension !== undefined) ? (removed as string[]) : undefined
}

function isBaseKind(value: string): value is (typeof SERVER_KINDS)[number] {
  return (SERVER_KINDS as readonly string[]).includes(value)
}

export function isServerKind(value: string): value is ServerKind {
  return isBaseKind(value) || removedExtensions(value) !== undefined
}

/** Parley in any form: it needs a data directory and signed tokens. */
export function isParleyKind(kind: ServerKind): boolean {
  return kind === 'parley' || removedExtensions(kind) !== undefined
}

/** The kinds a scenario's results hold, the three baselines first, then the others as they ran. */
export function kindsIn(servers: Readonly<Partial<Record<ServerKind, unknown>>>): ServerKind[] {
  const others = Object.keys(servers).filter((kind) => !isBaseKind(kind))
  return [...SERVER_KINDS.filter((kind) => servers[kind] !== undefined), ...others.filter(isServerKind)]
}

/** How long a server may take to answer GET /health after spawning. */
export const SERVER_START_TIMEOUT_MS = 20_000

/** How long a server may take to exit after SIGTERM before it is killed. */
export const SERVER_STOP_TIMEOUT_MS = 15_000

/** How long the probe may take to answer (a blocked event loop answers late). */
export const PROBE_TIMEOUT_MS = 30_000

/**
 * Parley's update rate limit for bench runs (PARLEY_UPDATES_PER_SECOND and _BURST): a few bench
 * writers send thousands of updates per second, which the per-connection default refuses. Every
 * check of the write guard still runs.
 */
export const BENCH_UPDATE_RATE = 100_000

/**
 * Parley's concurrent sockets per client address for bench runs (PARLEY_CONNECTIONS_PER_ADDRESS):
 * every bench client connects from 127.0.0.1, thousands at once, which the default (256 per
 * address, 20 upgrades/s) would refuse. 0 lifts the per-address limits; nothing else changes.
 */
export const BENCH_CONNECTIONS_PER_ADDRESS = 0

/** Characters of a server's stderr kept for error reports. */
const STDERR_TAIL_CHARS = 4_000

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PROBE = path.join(ROOT, 'bench/servers/probe.ts')
const SCRIPTS: Record<(typeof SERVER_KINDS)[number], string[]> = {
  'raw-ws': [path.join(ROOT, 'bench/servers/raw-ws.ts')],
  hocuspocus: [path.join(ROOT, 'bench/servers/hocuspocus.ts')],
  parley: [path.join(ROOT, 'server/bin/parley.ts'), 'serve'],
}
const WITHOUT_SCRIPT = [path.join(ROOT, 'bench/servers/parley-without.ts')]

export interface TargetServer {
  readonly kind: ServerKind
  readonly pid: number
  readonly wsUrl: string
  readonly httpUrl: string
  /** Parley's data directory (its SQLite file), for scenarios that prepare stored data; undefined for the baselines. */
  readonly dataDir: string | undefined
  /** A token for `userId` this server accepts (any string for the baselines); `access` defaults to comment on every document. */
  token(userId: string, access?: Readonly<Record<string, Role>>): Promise<string>
  /** Asks the probe inside the server process. */
  probe(op: ProbeRequest['op']): Promise<ProbeReply>
  /** Has the process exited (on its own, or after stop)? */
  readonly exited: boolean
  stderrTail(): string
  stop(): Promise<void>
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) })
    await response.body?.cancel()
    return response.ok
  } catch {
    return false
  }
}

/**
 * The shell's environment without Parley's configuration variables: a server under test is
 * configured by the bench alone. (CI exports DATABASE_URL and REDIS_URL; inherited, they made every
 * bench Parley share one PostgreSQL database and one Redis, and concurrent runs saw each other's documents.)
 */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !CONFIG_VARIABLES.includes(key)) env[key] = value
  return env
}

/** Spawns through `sh` to raise the soft open-files limit to the hard one (10,000 sockets). */
function spawnServer(script: string[], env: Record<string, string>): ChildProcess {
  const node = [process.execPath, '--expose-gc', '--import', PROBE, ...script]
  return spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...node], {
    cwd: ROOT,
    env: { ...inheritedEnv(), ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
}

/** `extraEnv` is applied last (a scenario's own settings, see `Scenario.serverEnv`). */
/**
 * Every server binds port 0 (`PORT=0`) and the probe reports the ports it listens on
 * (bench/servers/probe.ts): the bench never picks a port that another process could take first.
 */
export async function startServer(kind: ServerKind, extraEnv: Readonly<Record<string, string>> = {}): Promise<TargetServer> {
  const secret = randomBytes(32).toString('hex')
  const dataDir = isParleyKind(kind) ? mkdtempSync(path.join(tmpdir(), 'parley-bench-')) : undefined
  const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'production' }
  if (dataDir) {
    Object.assign(env, { PARLEY_JWT_SECRET: secret, PARLEY_DATA_DIR: dataDir, LOG_LEVEL: 'warn' })
    Object.assign(env, { PARLEY_UPDATES_PER_SECOND: String(BENCH_UPDATE_RATE), PARLEY_UPDATE_BURST: String(BENCH_UPDATE_RATE) })
    Object.assign(env, { PARLEY_CONNECTIONS_PER_ADDRESS: String(BENCH_CONNECTIONS_PER_ADDRESS) })
  }
  const removed = removedExtensions(kind)
  if (removed) env.BENCH_PARLEY_WITHOUT = removed.join(',')
  Object.assign(env, extraEnv)
  const script = isBaseKind(kind) ? SCRIPTS[kind] : WITHOUT_SCRIPT
  const child = spawnServer(script, env)
  const pid = child.pid
  if (pid === undefined) throw new Error(`${kind}: could not spawn`)

  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS)
    // BENCH_ECHO=1: the server's stderr shown live (debugging a scenario).
    if (process.env.BENCH_ECHO) process.stderr.write(chunk)
  })
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  void exit.then(() => {
    exited = true
  })

  const waiting = new Map<number, (reply: ProbeReply) => void>()
  let nextId = 1
  const listening: number[] = []
  child.on('message', (message: ProbeReply | ProbeListening) => {
    if ('listening' in message) {
      listening.push(message.listening)
      return
    }
    waiting.get(message.id)?.(message)
    waiting.delete(message.id)
  })

  let port = 0
  const tokens = new Map<string, Promise<string>>()
  const server: TargetServer = {
    kind,
    pid,
    get wsUrl() {
      return `ws://127.0.0.1:${port}`
    },
    get httpUrl() {
      return `http://127.0.0.1:${port}`
    },
    dataDir,
    token(userId, access = { '*': 'comment' }) {
      if (!isParleyKind(kind)) return Promise.resolve(`bench-token-${userId}`)
      const key = `${userId}\n${JSON.stringify(access)}`
      let token = tokens.get(key)
      if (!token) {
        token = signToken({ sub: userId, access: { ...access } }, secret)
        tokens.set(key, token)
      }
      return token
    },
    probe(op) {
      const id = nextId++
      const reply = new Promise<ProbeReply>((resolve) => waiting.set(id, resolve))
      child.send({ id, op } satisfies ProbeRequest)
      return withTimeout(reply, PROBE_TIMEOUT_MS, `${kind} probe ${op}`)
    },
    get exited() {
      return exited
    },
    stderrTail: () => stderr,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM')
        try {
          await withTimeout(exit, SERVER_STOP_TIMEOUT_MS, `${kind} stop`)
        } catch {
          child.kill('SIGKILL')
          await exit
        }
      }
      if (child.connected) child.disconnect()
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }

  try {
    // The port that answers GET /health among those the server listens on (one, for every kind today).
    const answering = async () => {
      for (const candidate of listening) {
        if (await healthy(`http://127.0.0.1:${candidate}/health`)) {
          port = candidate
          return true
        }
      }
      return false
    }
    await waitFor(async () => exited || (await answering()), 'listening on port 0 and answering GET /health', SERVER_START_TIMEOUT_MS)
    if (exited) throw new Error(`exited during start-up: ${stderr.trim()}`)
  } catch (error) {
    await server.stop()
    throw new Error(`${kind}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  return server
}
