/** Parley as a library: embed the server in a Node backend. */
export { createParleyServer, SHUTDOWN_TIMEOUT_MS, type ParleyServer, type ParleyServerOptions } from './server.ts'
export { loadConfig, type ParleyConfig, type ConfigResult } from './config.ts'
export type { Storage, DocumentStore, StoredDocument, LogRow, SubjectStore, UserStore } from './storage/types.ts'
export type { AccessResolver } from './access/resolve.ts'
export { SqliteStorage } from './storage/sqlite/index.ts'
export { signToken } from './auth/sign.ts'
export * from '../protocol/index.ts'
