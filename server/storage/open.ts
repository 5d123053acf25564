/** Picks the storage backend the configuration asks for. */
import type { Logger } from 'pino'
import type { ParleyConfig } from '../config.ts'
import { createLogger } from '../observability/logger.ts'
import { SqliteStorage } from './sqlite/index.ts'
import { logCommitFault } from './sqlite/faults.ts'
import type { Storage } from '../../core/storage/types.ts'

/**
 * PostgreSQL (migrated to the current schema) when `databaseUrl` is set, SQLite in `dataDir`
 * otherwise. `logger` receives connection problems; without one, a logger at `logLevel` does.
 * The PostgreSQL backend is loaded only when asked for: a single node does not pay for `pg`.
 */
export async function openStorage(
  config: Pick<ParleyConfig, 'dataDir' | 'databaseUrl'> & Partial<Pick<ParleyConfig, 'logLevel' | 'storageFaultPoint'>>,
  logger?: Logger,
): Promise<Storage> {
  if (config.databaseUrl) {
    const { PostgresStorage } = await import('./postgres/index.ts')
    return PostgresStorage.open({ url: config.databaseUrl, logger: logger ?? createLogger(config.logLevel ?? 'info') })
  }
  return SqliteStorage.inDataDir(config.dataDir, { beforeLogCommit: logCommitFault(config.storageFaultPoint) })
}
