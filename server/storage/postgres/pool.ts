/**
 * The connection pool behind the PostgreSQL backend, and the few helpers every query needs:
 * transactions that always give their connection back, closed-state checks, and conversions
 * between PostgreSQL values (BYTEA as Buffer, BIGINT as string) and the storage types.
 */
import { Pool, type PoolClient, type QueryResultRow } from 'pg'
import type { Logger } from 'pino'

/** Connections one Parley instance keeps at most; appends to different documents run in parallel. */
export const POSTGRES_POOL_SIZE = 10

/** Server-side limit for one statement, so a stuck query fails instead of holding a write forever. */
export const POSTGRES_STATEMENT_TIMEOUT_MS = 30_000

/** Server-side limit for a transaction left idle (a paused process), so its locks are released. */
export const POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000

/** How long acquiring a new connection may take before the operation fails (database down). */
export const POSTGRES_CONNECT_TIMEOUT_MS = 5_000

/** An idle pooled connection is closed after this long. */
export const POSTGRES_IDLE_TIMEOUT_MS = 30_000

/** TCP keepalive delay, so a connection to a vanished host is noticed. */
export const POSTGRES_KEEPALIVE_DELAY_MS = 10_000

/** `application_name` the server shows in `pg_stat_activity`. */
export const POSTGRES_APPLICATION_NAME = 'parley'

/**
 * First key of Parley's two-key advisory locks (ASCII "parl"); the second key names what is locked.
 * The two-key space never collides with single-bigint advisory locks other software may take.
 */
export const ADVISORY_LOCK_CLASS = 0x7061726c

/** Second advisory key of the lock that serialises migrations across instances starting together. */
export const MIGRATION_LOCK_KEY = 0

/** First advisory key of the per-document lock that compaction and quarantine take. */
export const DOCUMENT_LOCK_CLASS = ADVISORY_LOCK_CLASS + 1

/** Error of every call made after `close()`. */
export class StorageClosedError extends Error {
  constructor() {
    super('the PostgreSQL storage is closed')
    this.name = 'StorageClosedError'
  }
}

/** A pool that refuses work once closed. */
export class PostgresPool {
  private readonly pool: Pool
  private closing: Promise<void> | undefined
  /** Operations started and not yet settled (each promise never rejects). */
  private readonly inflight = new Set<Promise<void>>()
  private readonly logger: Logger | undefined

  constructor(url: string, logger: Logger | undefined) {
    this.logger = logger
    this.pool = new Pool({
      connectionString: url,
      max: POSTGRES_POOL_SIZE,
      statement_timeout: POSTGRES_STATEMENT_TIMEOUT_MS,
      idle_in_transaction_session_timeout: POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: POSTGRES_IDLE_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: POSTGRES_KEEPALIVE_DELAY_MS,
      application_name: POSTGRES_APPLICATION_NAME,
    })
    // An idle connection that breaks (database restarted, network cut) is emitted here; the pool
    // drops it and opens a new one on next use. Without a listener the process would crash.
    this.pool.on('error', (error) => {
      this.logger?.warn({ err: error }, 'PostgreSQL: an idle connection failed; the pool replaces it')
    })
  }

  /** Counts `operation` as pending work that `end()` waits for. */
  private track<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new StorageClosedError())
    const promise = operation()
    const settled = promise.then(
      () => undefined,
      () => undefined,
    )
    this.inflight.add(settled)
    void settled.then(() => this.inflight.delete(settled))
    return promise
  }

  /** One statement, in its own implicit transaction: committed once this resolves. */
  query<Row extends QueryResultRow>(text: string, values: unknown[] = []): Promise<Row[]> {
    return this.track(async () => (await this.pool.query<Row>(text, values)).rows)
  }

  /** Runs `work` between BEGIN and COMMIT on one connection; rolls back when it throws. */
  transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.track(() => this.runTransaction(work))
  }

  private async runTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    // A checked-out connection has no pool listener; one that breaks between two queries (while
    // `work` computes) would otherwise emit an unhandled 'error'. The next query fails instead.
    let broken: Error | undefined
    const onError = (error: Error) => {
      broken = error
      this.logger?.warn({ err: error }, 'PostgreSQL: a connection failed inside a transaction')
    }
    client.on('error', onError)
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      if (!broken) {
        try {
          await client.query('ROLLBACK')
        } catch (rollbackError) {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))
        }
      }
      throw error
    } finally {
      client.off('error', onError)
      // A broken connection is destroyed rather than handed to the next caller.
      client.release(broken)
    }
  }

  /** Refuses new work, waits for pending work to settle, then closes every connection. Idempotent. */
  end(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.inflight)
      await this.pool.end()
    })()
    return this.closing
  }
}

/** A view of a BYTEA value without copying. */
export function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

/** A Buffer over the same memory, as `pg` sends Buffers as BYTEA. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** A BIGINT (which `pg` returns as a string) as a number; seqs and times stay far below 2^53. */
export function toNumber(value: string | number): number {
  const number = typeof value === 'number' ? value : Number(value)
  if (!Number.isSafeInteger(number)) throw new Error(`BIGINT ${value} does not fit in a JavaScript number`)
  return number
}
