/** Structured logs (pino). Fields that matter: `documentName`, `userId`, `socketId`, `err`. */
import { pino, type Logger } from 'pino'
import { createLogDestination, type LogDestination } from './log-destination.ts'

/** A pino logger on stdout through a destination that cannot block exit (see log-destination.ts). */
export function createLogger(level: string, destination: LogDestination = createLogDestination()): Logger {
  return pino({ level, base: { service: 'parley' } }, destination)
}

export { createLogDestination, type LogDestination } from './log-destination.ts'
export { logFields, type LogFields } from '../../extensions/context.ts'
