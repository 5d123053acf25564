/**
 * Hocuspocus writes to `console` itself (hook errors such as `[onAuthenticate] forbidden: …`, the
 * exception that closes a connection after a refused update, with its stack). In `parley serve`,
 * console output goes through pino instead, so it is JSON and obeys `LOG_LEVEL` (issue 24):
 * - an `UpdateRefused` the guard threw: already logged by the guard as one `update refused` line
 *   with code and document, so only a debug line here, without a stack;
 * - a hook's refusal (`[onAuthenticate] …`): debug, the refusal is answered to the client and counted;
 * - anything else: `console.error` → error (with `err` when an Error is given), `warn` → warn,
 *   `log`/`info` → info, `debug` → debug.
 */
import { format } from 'node:util'
import type { Logger } from 'pino'
import { UpdateRefused } from '../../extensions/guard/index.ts'

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug'
const LEVELS: Record<ConsoleMethod, 'info' | 'warn' | 'error' | 'debug'> = { log: 'info', info: 'info', warn: 'warn', error: 'error', debug: 'debug' }
const HOOK_PREFIX = /^\[(on[A-Z]\w*|before[A-Z]\w*|after[A-Z]\w*|connected)\]$/
const WHILE_HANDLING = /\(while handling ([^)]+)\)/

/** Replaces console's methods with pino calls; returns a function that puts them back. */
export function routeConsoleToLogger(logger: Logger): () => void {
  // Replacing console's methods is this module's purpose (the lint rule is about calling them).
  const target: Console = globalThis.console
  const original = { log: target.log, info: target.info, warn: target.warn, error: target.error, debug: target.debug }
  for (const method of Object.keys(LEVELS) as ConsoleMethod[]) {
    target[method] = (...args: unknown[]) => {
      const refused = args.find((arg): arg is UpdateRefused => arg instanceof UpdateRefused)
      const first = args[0]
      if (refused) {
        const documentName = typeof first === 'string' ? WHILE_HANDLING.exec(first)?.[1] : undefined
        logger.debug({ source: 'hocuspocus', code: refused.reason, documentName }, 'session closed after a refused update')
        return
      }
      if (typeof first === 'string' && HOOK_PREFIX.test(first)) {
        logger.debug({ source: 'hocuspocus', hook: first.slice(1, -1) }, format(...args.slice(1)))
        return
      }
      const err = args.find((arg): arg is Error => arg instanceof Error)
      const text = format(...args.filter((arg) => arg !== err))
      logger[LEVELS[method]]({ source: 'hocuspocus', ...(err ? { err } : {}) }, text)
    }
  }
  return () => Object.assign(target, original)
}
