/** Structured logs (pino). Fields that matter: `documentName`, `userId`, `socketId`, `err`. */
import { pino, type Logger } from 'pino'

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'parley' } })
}

export { logFields, type LogFields } from '../../extensions/context.ts'
