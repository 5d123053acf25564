/** Structured logs (pino). Fields that matter: `documentName`, `userId`, `socketId`, `err`. */
import { pino, type Logger } from 'pino'

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'parley' } })
}

/** The fields every log line about a document or connection carries. */
export interface LogFields {
  documentName?: string
  userId?: string
  socketId?: string
}

function stringField(source: object, key: string): string | undefined {
  const value: unknown = Reflect.get(source, key)
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * `documentName`, `userId` (the authenticated `context.user.id`) and `socketId` from a Hocuspocus
 * hook payload, leaving out whichever it does not have.
 */
export function logFields(payload: unknown): LogFields {
  if (typeof payload !== 'object' || payload === null) return {}
  const fields: LogFields = {}
  const documentName = stringField(payload, 'documentName')
  if (documentName) fields.documentName = documentName
  const context: unknown = Reflect.get(payload, 'context')
  const user: unknown = typeof context === 'object' && context !== null ? Reflect.get(context, 'user') : undefined
  const userId = typeof user === 'object' && user !== null ? stringField(user, 'id') : undefined
  if (userId) fields.userId = userId
  const socketId = stringField(payload, 'socketId')
  if (socketId) fields.socketId = socketId
  return fields
}
