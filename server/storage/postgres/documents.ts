/**
 * Documents in PostgreSQL: a snapshot row plus log rows, as in SQLite, made safe for several
 * instances (and several pooled connections) writing the same document at once.
 *
 * - append: one statement (so one implicit transaction) bumps the document's head row and inserts
 *   the log row with the new seq. The head row's lock is held until COMMIT, so concurrent appends
 *   to one document take seqs one after another and commit in seq order; the promise resolves
 *   after COMMIT, which with the default `synchronous_commit = on` is on disk.
 * - load: one statement reads snapshot and log together, so it sees one consistent state even
 *   while another instance compacts.
 * - compact / quarantine: one transaction under a per-document advisory lock, reading from the
 *   database after the lock is taken; concurrent compactions run one after the other and appends
 *   are never blocked (they only add rows past the ones being merged).
 * - replace: the same lock, plus the head row's lock (appends wait for it), so that the new
 *   snapshot covers the last seq and every log row goes, with no append in between.
 *
 * Any failure rejects, so an update is refused rather than acknowledged. When a connection breaks
 * during COMMIT the outcome is unknown and the append rejects although it may have committed: the
 * client then resends an update already stored, which Yjs applies as a no-op.
 */
import type { PoolClient } from 'pg'
import type { CompactionResult, DocumentStore, LogRow, MergeUpdates, StoredDocument } from '../../../core/storage/types.ts'
import { DOCUMENT_LOCK_CLASS, toBuffer, toBytes, toNumber, type PostgresPool } from './pool.ts'

/** Row `kind` of the load query: the snapshot sorts before the log. */
const SNAPSHOT_ROW = 0

const LOAD_SQL = `
  SELECT 0 AS kind, upto_seq AS seq, data FROM document_snapshots WHERE name = $1
  UNION ALL
  SELECT 1 AS kind, seq, data FROM document_log WHERE name = $1
  ORDER BY kind, seq`

// seq continues after the head; a document without a head row (written before heads existed, or
// restored from a dump without them) continues after its log, or after what its snapshot merged.
const APPEND_SQL = `
  WITH head AS (
    INSERT INTO document_heads AS h (name, last_seq)
    VALUES ($1, COALESCE((SELECT MAX(seq) FROM document_log WHERE name = $1),
                         (SELECT upto_seq FROM document_snapshots WHERE name = $1), 0) + 1)
    ON CONFLICT (name) DO UPDATE SET last_seq = h.last_seq + 1
    RETURNING last_seq
  )
  INSERT INTO document_log (name, seq, data, created_at)
  SELECT $1, last_seq, $2, $3 FROM head
  RETURNING seq`

const UPSERT_SNAPSHOT_SQL = `
  INSERT INTO document_snapshots (name, data, upto_seq, updated_at) VALUES ($1, $2, $3, $4)
  ON CONFLICT (name) DO UPDATE SET data = excluded.data, upto_seq = excluded.upto_seq, updated_at = excluded.updated_at`

const QUARANTINE_SQL = `
  WITH moved AS (DELETE FROM document_log WHERE name = $1 AND seq = $2 RETURNING name, seq, data)
  INSERT INTO document_quarantine (name, seq, data, reason, created_at)
  SELECT name, seq, data, $3, $4 FROM moved
  ON CONFLICT (name, seq) DO UPDATE SET data = excluded.data, reason = excluded.reason, created_at = excluded.created_at`

// Takes the head row's lock (held until COMMIT) and answers the last seq; creates the head when missing.
const LOCK_HEAD_SQL = `
  INSERT INTO document_heads AS h (name, last_seq)
  VALUES ($1, COALESCE((SELECT MAX(seq) FROM document_log WHERE name = $1),
                       (SELECT upto_seq FROM document_snapshots WHERE name = $1), 0))
  ON CONFLICT (name) DO UPDATE SET last_seq = h.last_seq
  RETURNING last_seq`

const STORED_BYTES_SQL = `
  SELECT COALESCE((SELECT octet_length(data) FROM document_snapshots WHERE name = $1), 0)
       + COALESCE((SELECT SUM(octet_length(data)) FROM document_log WHERE name = $1), 0) AS bytes`

interface StoredRow {
  kind: number
  seq: string
  data: Buffer
}

function toStored(rows: StoredRow[]): StoredDocument {
  let snapshot: Uint8Array | null = null
  const log: LogRow[] = []
  for (const row of rows) {
    if (row.kind === SNAPSHOT_ROW) snapshot = toBytes(row.data)
    else log.push({ seq: toNumber(row.seq), data: toBytes(row.data) })
  }
  return { snapshot, log }
}

/** Takes the document's lock for the rest of the transaction (released by COMMIT or ROLLBACK). */
async function lockDocument(client: PoolClient, name: string): Promise<void> {
  // hashtext may map two names to one key: they then merely wait for each other.
  await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [DOCUMENT_LOCK_CLASS, name])
}

export class PostgresDocumentStore implements DocumentStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  async load(name: string): Promise<StoredDocument> {
    return toStored(await this.db.query<StoredRow>(LOAD_SQL, [name]))
  }

  async append(name: string, update: Uint8Array): Promise<number> {
    const rows = await this.db.query<{ seq: string }>(APPEND_SQL, [name, toBuffer(update), Date.now()])
    const row = rows[0]
    if (!row) throw new Error(`append to ${name} returned no seq`)
    return toNumber(row.seq)
  }

  async compact(name: string, merge: MergeUpdates): Promise<CompactionResult> {
    return this.db.transaction(async (client) => {
      await lockDocument(client, name)
      // Read after the lock: whatever an earlier compaction wrote is visible (READ COMMITTED takes
      // a new snapshot per statement), so no compaction ever replaces a newer snapshot.
      const stored = toStored((await client.query<StoredRow>(LOAD_SQL, [name])).rows)
      const last = stored.log.at(-1)
      if (!last) return { mergedRows: 0, snapshotBytes: stored.snapshot?.byteLength ?? 0 }
      const parts = stored.snapshot ? [stored.snapshot, ...stored.log.map((r) => r.data)] : stored.log.map((r) => r.data)
      const merged = merge(parts)
      await client.query(UPSERT_SNAPSHOT_SQL, [name, toBuffer(merged), last.seq, Date.now()])
      // Appends commit in seq order (head row lock), so every row up to `last` was read above;
      // rows appended since have higher seqs and stay.
      await client.query('DELETE FROM document_log WHERE name = $1 AND seq <= $2', [name, last.seq])
      return { mergedRows: stored.log.length, snapshotBytes: merged.byteLength }
    })
  }

  async quarantine(name: string, seq: number, reason: string): Promise<void> {
    await this.db.transaction(async (client) => {
      await lockDocument(client, name)
      await client.query(QUARANTINE_SQL, [name, seq, reason, Date.now()])
    })
  }

  async listQuarantined(name: string): Promise<Array<LogRow & { reason: string }>> {
    const rows = await this.db.query<{ seq: string; data: Buffer; reason: string }>(
      'SELECT seq, data, reason FROM document_quarantine WHERE name = $1 ORDER BY seq',
      [name],
    )
    return rows.map((row) => ({ seq: toNumber(row.seq), data: toBytes(row.data), reason: row.reason }))
  }

  async replace(name: string, snapshot: Uint8Array): Promise<void> {
    await this.db.transaction(async (client) => {
      await lockDocument(client, name)
      const head = (await client.query<{ last_seq: string }>(LOCK_HEAD_SQL, [name])).rows[0]
      if (!head) throw new Error(`replace of ${name} found no head`)
      await client.query(UPSERT_SNAPSHOT_SQL, [name, toBuffer(snapshot), toNumber(head.last_seq), Date.now()])
      await client.query('DELETE FROM document_log WHERE name = $1', [name])
    })
  }

  async storedBytes(name: string): Promise<number> {
    const rows = await this.db.query<{ bytes: string }>(STORED_BYTES_SQL, [name])
    return toNumber(rows[0]?.bytes ?? '0')
  }

  async exists(name: string): Promise<boolean> {
    const rows = await this.db.query<{ found: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM document_snapshots WHERE name = $1) OR EXISTS (SELECT 1 FROM document_log WHERE name = $1) AS found',
      [name],
    )
    return rows[0]?.found === true
  }
}
