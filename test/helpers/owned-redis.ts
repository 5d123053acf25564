/**
 * A `redis-server` a test owns, on its own free port, so the test can stop it and start it again
 * on the same port (no persistence: a restart comes back empty, as a crashed cache would).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { trackChild } from './child.ts'
import { freePort } from './postgres.ts'
import { waitFor } from './wait.ts'

/** Where Debian installs the server; `REDIS_SERVER` overrides. */
export const REDIS_SERVER_BIN = process.env.REDIS_SERVER ?? '/usr/bin/redis-server'

/** How long redis-server may take to accept connections on a loaded two-core machine. */
const START_TIMEOUT_MS = 15_000

export interface OwnedRedis {
  port: number
  url: string
  start(): Promise<void>
  /** SIGKILL: connections are cut, nothing is saved. */
  stop(): Promise<void>
  dispose(): Promise<void>
}

export async function startOwnedRedis(): Promise<OwnedRedis> {
  const port = await freePort()
  let child: ChildProcess | undefined
  let output = ''
  const owned: OwnedRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (child) throw new Error('redis-server is already running')
      output = ''
      const started = trackChild(
        spawn(REDIS_SERVER_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      )
      child = started
      started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
      started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
      await waitFor(
        () => {
          if (started.exitCode !== null) throw new Error(`redis-server exited early:\n${output}`)
          return output.includes('Ready to accept connections')
        },
        `redis-server on port ${port} ready`,
        START_TIMEOUT_MS,
      )
    },
    async stop() {
      const running = child
      if (!running) return
      child = undefined
      if (running.exitCode !== null || running.signalCode !== null) return
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
      running.kill('SIGKILL')
      await exited
    },
    async dispose() {
      await owned.stop()
    },
  }
  await owned.start()
  return owned
}
