/**
 * PostgreSQL for tests: a fresh schema per test file (or per storage) on the shared database,
 * and a whole PostgreSQL instance a test owns, so it can stop and start it.
 *
 * `DATABASE_URL` selects the shared database (default: the local one). Tests never skip when it
 * is unreachable: they fail, naming the URL.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test'

/** Where PostgreSQL 15's server programs live (Debian layout); `PG_BIN` overrides. */
export const POSTGRES_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin'

/** OS user that runs an owned instance when the tests run as root (PostgreSQL refuses root). */
export const POSTGRES_OS_USER = 'postgres'

export function sharedDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL
}

/** `url` with every connection's `search_path` set to `schema`. */
export function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url)
  parsed.searchParams.set('options', `-c search_path=${schema}`)
  return parsed.toString()
}

async function runSql(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  try {
    await client.connect()
  } catch (error) {
    throw new Error(`cannot reach PostgreSQL at ${url} (set DATABASE_URL): ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    })
  }
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

export interface TestSchema {
  name: string
  /** The shared database's URL with `search_path` set to this schema. */
  url: string
  /** Drops the schema and everything in it. */
  drop(): Promise<void>
}

/** Creates `parley_test_<random>` on the shared database. */
export async function createTestSchema(base: string = sharedDatabaseUrl()): Promise<TestSchema> {
  const name = `parley_test_${randomBytes(6).toString('hex')}`
  await runSql(base, `CREATE SCHEMA ${name}`)
  return {
    name,
    url: withSearchPath(base, name),
    drop: () => runSql(base, `DROP SCHEMA IF EXISTS ${name} CASCADE`),
  }
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => (port ? resolve(port) : reject(new Error('no port'))))
    })
  })
}

const runningAsRoot = process.getuid?.() === 0

/** Runs a PostgreSQL program (as the postgres OS user when we are root); rejects on failure. */
function runPostgresProgram(program: string, args: string[]): Promise<string> {
  const file = path.join(POSTGRES_BIN, program)
  const [command, commandArgs] = runningAsRoot ? ['runuser', ['-u', POSTGRES_OS_USER, '--', file, ...args]] : [file, args]
  return new Promise((resolve, reject) => {
    // stdin ignored and output piped but resolved on 'exit': a started server holds no pipe of ours
    // (pg_ctl sends its output to the log file), yet never wait for 'close' just in case.
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('error', reject)
    child.once('exit', (code) => {
      if (code === 0) resolve(output)
      else reject(new Error(`${program} ${args.join(' ')} exited with ${code}: ${output.trim()}`))
    })
  })
}

/** uid and gid of an OS user, from /etc/passwd. */
function userIds(user: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${user}:`))
  const fields = line?.split(':')
  const uid = Number(fields?.[2])
  const gid = Number(fields?.[3])
  if (!line || !Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`no OS user ${user} to run PostgreSQL as`)
  return { uid, gid }
}

export interface OwnedPostgres {
  port: number
  /** URL of the instance's `postgres` database. */
  url: string
  start(): Promise<void>
  /** `immediate` is a crash (no checkpoint, connections cut); `fast` a clean stop. */
  stop(mode?: 'immediate' | 'fast'): Promise<void>
  /** Stops it if running and removes its files. Safe to call more than once. */
  dispose(): Promise<void>
}

/** initdb into a temporary directory and start it on a free port. */
export async function startOwnedPostgres(): Promise<OwnedPostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-pg-'))
  if (runningAsRoot) {
    const { uid, gid } = userIds(POSTGRES_OS_USER)
    chownSync(dir, uid, gid)
  }
  const dataDir = path.join(dir, 'data')
  const logFile = path.join(dir, 'postgres.log')
  const port = await freePort()
  let running = false
  await runPostgresProgram('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'])
  const owned: OwnedPostgres = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`
      await runPostgresProgram('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '60', 'start'])
      running = true
    },
    async stop(mode = 'fast') {
      await runPostgresProgram('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop'])
      running = false
    },
    async dispose() {
      if (running) await owned.stop('immediate').catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    await owned.start()
  } catch (error) {
    await owned.dispose()
    throw error
  }
  return owned
}
