/**
 * A Parley cluster for the `cluster` scenario: a redis-server of its own (on a free loopback port,
 * no persistence, so it can be killed and restarted), a fresh schema on the shared PostgreSQL
 * (`DATABASE_URL`, default the local test database) and N Parley processes with `REDIS_URL` and
 * `DATABASE_URL` (bench/lib/servers.ts, each binding port 0).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import pg from 'pg'
import { startServer, type TargetServer } from './servers.ts'
import { waitFor } from './wait.ts'

/** Debian's redis-server; `REDIS_SERVER` overrides. */
const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server'

/** How long redis-server may take to accept connections. */
const REDIS_START_TIMEOUT_MS = 15_000

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test'

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (!address || typeof address === 'string') throw new Error('no free port')
  return address.port
}

export class RedisProcess {
  readonly port: number
  private child: ChildProcess | undefined

  private constructor(port: number) {
    this.port = port
  }

  static async start(): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort())
    await redis.restart()
    return redis
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Starts it (again) on the same port; resolves once it accepts connections. */
  async restart(): Promise<void> {
    const child = spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`)
        return output.includes('Ready to accept connections')
      },
      'redis-server ready',
      REDIS_START_TIMEOUT_MS,
    )
  }

  /** SIGKILL, as a crash: connections are cut and nothing is kept. */
  async kill(): Promise<void> {
    const child = this.child
    this.child = undefined
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGKILL')
    await exited
  }
}

export interface Cluster {
  redis: RedisProcess
  instances: TargetServer[]
  stop(): Promise<void>
}

async function sql(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

export async function startCluster(size: number): Promise<Cluster> {
  const base = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL
  const schema = `parley_bench_${randomBytes(6).toString('hex')}`
  await sql(base, `CREATE SCHEMA ${schema}`)
  const databaseUrl = new URL(base)
  databaseUrl.searchParams.set('options', `-c search_path=${schema}`)
  const redis = await RedisProcess.start()
  const instances: TargetServer[] = []
  const stop = async () => {
    await Promise.all(instances.map((instance) => instance.stop()))
    await redis.kill()
    await sql(base, `DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  }
  try {
    // One first (it runs the migrations), then the rest together.
    const env = { REDIS_URL: redis.url, DATABASE_URL: databaseUrl.toString() }
    instances.push(await startServer('parley', env))
    instances.push(...(await Promise.all(Array.from({ length: size - 1 }, () => startServer('parley', env)))))
  } catch (error) {
    await stop()
    throw error
  }
  return { redis, instances, stop }
}
