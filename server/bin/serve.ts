/**
 * `parley serve`: runs the server until SIGTERM or SIGINT, then shuts down gracefully within a hard
 * deadline (issue 24). Whatever happens to stdout/stderr (a closed pipe, a reader that stopped
 * reading), the process exits:
 * - logs go through a destination that never blocks and stops on EPIPE (log-destination.ts);
 * - EPIPE on process.stdout/stderr (console output) is ignored instead of crashing mid-shutdown;
 * - after `PARLEY_SHUTDOWN_TIMEOUT_MS` (default 20 000: the 10 s wait for documents to store, plus closing storage) the process exits with code 3, whatever
 *   is still pending.
 * A repeat of the signal within a second is the same request delivered twice (`npm start` forwards
 * the signal its process group also received) and is ignored; a later one exits at once with code 1.
 */
import type { ParleyConfig } from '../config.ts'
import { routeConsoleToLogger } from '../observability/console.ts'
import { createLogDestination, createLogger } from '../observability/logger.ts'
import { createParleyServer } from '../server.ts'

export const EXIT_SHUTDOWN_FAILED = 1
/** The graceful shutdown did not finish within the deadline. */
export const EXIT_SHUTDOWN_DEADLINE = 3
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 20_000
const DUPLICATE_SIGNAL_MS = 1_000
/** How often a server started through npm or npx (`npm_command` set) checks that its launcher is still its parent. */
export const LAUNCHER_CHECK_MS = 500
const FINAL_FLUSH_MS = 500

function shutdownTimeout(env: Record<string, string | undefined>): number {
  const raw = env.PARLEY_SHUTDOWN_TIMEOUT_MS
  if (raw === undefined || raw === '') return DEFAULT_SHUTDOWN_TIMEOUT_MS
  const ms = Number(raw)
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`PARLEY_SHUTDOWN_TIMEOUT_MS: expected a whole number of milliseconds, got "${raw}"`)
  return ms
}

function ignoreBrokenPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
  })
}

/**
 * `npx parley serve` runs the server under `sh -c`, which npm signals but which does not pass a
 * SIGTERM on: npm and the shell exit and the server would serve on, re-parented. A server started
 * through npm or npx therefore stops gracefully once its parent is gone (its parent process id
 * changes). Started any other way (a process manager, `nohup`, a container's `node` command) it
 * does not watch, so daemonizing keeps working.
 */
function watchLauncher(onGone: () => void): void {
  if (process.env.npm_command === undefined) return
  const parent = process.ppid
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    onGone()
  }, LAUNCHER_CHECK_MS)
  timer.unref()
}

export async function serve(config: ParleyConfig): Promise<void> {
  const timeoutMs = shutdownTimeout(process.env)
  ignoreBrokenPipe(process.stdout)
  ignoreBrokenPipe(process.stderr)
  const destination = createLogDestination(1)
  const logger = createLogger(config.logLevel, destination)
  let server: Awaited<ReturnType<typeof createParleyServer>>
  try {
    server = await createParleyServer({ ...config, logger })
  } catch (error) {
    console.error(`parley: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  }
  // From here on, console output (Hocuspocus's own) is pino JSON at LOG_LEVEL.
  routeConsoleToLogger(logger)
  process.on('unhandledRejection', (reason) => {
    // Every hook catches its own errors; this is the last net, so that one bad promise never
    // takes the server down for everyone else.
    server.metrics.hookError('unhandledRejection')
    logger.error({ err: reason }, 'unhandled rejection')
  })
  const exit = (code: number) => {
    void destination.flush(FINAL_FLUSH_MS).then(() => process.exit(code))
  }
  let stoppingSince: number | undefined
  const stop = (why: { signal: string } | { reason: string }) => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < DUPLICATE_SIGNAL_MS) return
      logger.warn(why, 'second signal: exiting now')
      exit(EXIT_SHUTDOWN_FAILED)
      return
    }
    stoppingSince = Date.now()
    logger.info({ ...why, timeoutMs }, 'shutting down')
    // The deadline does not wait for the log flush: process.exit ends the process even with a
    // write pending on a pipe nobody reads.
    setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown deadline passed: exiting')
      process.exit(EXIT_SHUTDOWN_DEADLINE)
    }, timeoutMs).unref()
    server.close().then(
      () => exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        exit(EXIT_SHUTDOWN_FAILED)
      },
    )
  }
  process.on('SIGTERM', () => stop({ signal: 'SIGTERM' }))
  process.on('SIGINT', () => stop({ signal: 'SIGINT' }))
  watchLauncher(() => stop({ reason: 'launcher exited' }))
  try {
    await server.listen()
  } catch (error) {
    process.stderr.write(`parley: cannot listen on ${config.host}:${config.port}: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }
}
