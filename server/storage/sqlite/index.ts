/**
 * SQLite backend (better-sqlite3, WAL). Calls are synchronous underneath; a committed write is in
 * the WAL before the promise resolves, so it survives `kill -9` of the process.
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { GroupCommit, type BeforeCommit } from './group-commit.ts'
import type { ContactStore } from '../../../core/storage/contact-types.ts'
import { SqliteContactStore } from './contacts.ts'
import type { WebhookStore } from '../../../core/storage/webhook-types.ts'
import { SqliteWebhookStore } from './webhooks.ts'
import type {
  CompactionResult,
  DocumentStore,
  LogRow,
  MergeUpdates,
  NotificationStore,
  ModerationStore,
  PreferenceStore,
  DeviceStore,
  DeliveryStore,
  SearchStore,
  Storage,
  StoredDocument,
  SubjectStore,
  UserStore,
  ClientOwnerStore,
} from '../../../core/storage/types.ts'
import { migrate } from './migrations.ts'
import { SqliteClientOwnerStore } from './client-owners.ts'
import { SqliteNotificationStore } from './notifications.ts'
import { SqliteSubjectStore } from './subjects.ts'
import { SqliteUserStore } from './users.ts'
import { SqlitePreferenceStore } from './preferences.ts'
import { SqliteDeviceStore } from './devices.ts'
import { SqliteDeliveryStore } from './deliveries.ts'
import { SqliteSearchStore } from './search.ts'
import { SqliteFeedStore } from './feeds.ts'
import type { FeedStore } from '../../../core/storage/feed-types.ts'
import { SqliteModerationStore } from './moderation.ts'

/** How long a writer waits for another connection's lock before failing. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000

/** File name of the database inside the data directory. */
export const SQLITE_FILE = 'parley.db'

function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

/** Options of {@link SqliteStorage} beyond its file. */
export interface SqliteOptions {
  /** Test-only (server/storage/sqlite/faults.ts): runs inside each group commit's transaction, its writes done, before the commit; gets the documents the group appended to. */
  beforeLogCommit?: BeforeCommit | undefined
}

class SqliteDocumentStore implements DocumentStore {
  private readonly statements
  private readonly db: Database.Database
  private readonly group: GroupCommit

  constructor(db: Database.Database, group: GroupCommit) {
    this.db = db
    this.group = group
    this.statements = {
      snapshot: db.prepare<[string], { data: Buffer }>('SELECT data FROM document_snapshots WHERE name = ?'),
      log: db.prepare<[string], { seq: number; data: Buffer }>('SELECT seq, data FROM document_log WHERE name = ? ORDER BY seq'),
      // seq continues after the log's last row, or after what the snapshot merged when the log is empty
      append: db.prepare<[{ name: string; data: Buffer; at: number }], { seq: number }>(
        `INSERT INTO document_log (name, seq, data, created_at)
         VALUES (@name, COALESCE((SELECT MAX(seq) FROM document_log WHERE name = @name),
                                 (SELECT upto_seq FROM document_snapshots WHERE name = @name), 0) + 1, @data, @at)
         RETURNING seq`,
      ),
      upsertSnapshot: db.prepare<[string, Buffer, number, number]>(
        `INSERT INTO document_snapshots (name, data, upto_seq, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET data = excluded.data, upto_seq = excluded.upto_seq, updated_at = excluded.updated_at`,
      ),
      deleteLogUpTo: db.prepare<[string, number]>('DELETE FROM document_log WHERE name = ? AND seq <= ?'),
      logRow: db.prepare<[string, number], { data: Buffer }>('SELECT data FROM document_log WHERE name = ? AND seq = ?'),
      deleteLogRow: db.prepare<[string, number]>('DELETE FROM document_log WHERE name = ? AND seq = ?'),
      insertQuarantine: db.prepare<[string, number, Buffer, string, number]>(
        'INSERT OR REPLACE INTO document_quarantine (name, seq, data, reason, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      quarantined: db.prepare<[string], { seq: number; data: Buffer; reason: string }>(
        'SELECT seq, data, reason FROM document_quarantine WHERE name = ? ORDER BY seq',
      ),
      lastSeq: db.prepare<[string, string], { seq: number }>(
        `SELECT COALESCE((SELECT MAX(seq) FROM document_log WHERE name = ?),
                         (SELECT upto_seq FROM document_snapshots WHERE name = ?), 0) AS seq`,
      ),
      deleteLog: db.prepare<[string]>('DELETE FROM document_log WHERE name = ?'),
      storedBytes: db.prepare<[string, string], { bytes: number }>(
        `SELECT COALESCE((SELECT length(data) FROM document_snapshots WHERE name = ?), 0)
              + COALESCE((SELECT SUM(length(data)) FROM document_log WHERE name = ?), 0) AS bytes`,
      ),
      exists: db.prepare<[string, string], { found: number }>(
        'SELECT EXISTS (SELECT 1 FROM document_snapshots WHERE name = ?) OR EXISTS (SELECT 1 FROM document_log WHERE name = ?) AS found',
      ),
    }
  }

  private readStored(name: string): StoredDocument {
    // Reads see every append made before them, also those still waiting for their group.
    this.group.flush()
    const snapshot = this.statements.snapshot.get(name)
    const log: LogRow[] = this.statements.log.all(name).map((row) => ({ seq: row.seq, data: toBytes(row.data) }))
    return { snapshot: snapshot ? toBytes(snapshot.data) : null, log }
  }

  async load(name: string): Promise<StoredDocument> {
    return this.readStored(name)
  }

  async append(name: string, update: Uint8Array): Promise<number> {
    // Copied: the caller's buffer may be reused before the group is written at the end of the turn.
    const row = { name, data: Buffer.from(update), at: Date.now() }
    return this.group.run(() => {
      const seq = this.statements.append.get(row)?.seq
      if (seq === undefined) throw new Error(`append to ${name} returned no seq`)
      return seq
    }, name)
  }

  async compact(name: string, merge: MergeUpdates): Promise<CompactionResult> {
    // IMMEDIATE: take the write lock before reading, so no other connection appends or compacts
    // between the read and the replacement.
    const run = this.db.transaction((): CompactionResult => {
      const stored = this.readStored(name)
      const last = stored.log.at(-1)
      if (!last) return { mergedRows: 0, snapshotBytes: stored.snapshot?.byteLength ?? 0 }
      const parts = stored.snapshot ? [stored.snapshot, ...stored.log.map((r) => r.data)] : stored.log.map((r) => r.data)
      const merged = merge(parts)
      this.statements.upsertSnapshot.run(name, Buffer.from(merged), last.seq, Date.now())
      this.statements.deleteLogUpTo.run(name, last.seq)
      return { mergedRows: stored.log.length, snapshotBytes: merged.byteLength }
    })
    return run.immediate()
  }

  async quarantine(name: string, seq: number, reason: string): Promise<void> {
    this.db
      .transaction(() => {
        const row = this.statements.logRow.get(name, seq)
        if (!row) return
        this.statements.insertQuarantine.run(name, seq, row.data, reason, Date.now())
        this.statements.deleteLogRow.run(name, seq)
      })
      .immediate()
  }

  async listQuarantined(name: string): Promise<Array<LogRow & { reason: string }>> {
    return this.statements.quarantined.all(name).map((row) => ({ seq: row.seq, data: toBytes(row.data), reason: row.reason }))
  }

  async exists(name: string): Promise<boolean> {
    this.group.flush()
    return this.statements.exists.get(name, name)?.found === 1
  }

  async replace(name: string, snapshot: Uint8Array): Promise<void> {
    // IMMEDIATE: no append slips in between reading the last seq and deleting the log.
    this.db
      .transaction(() => {
        this.group.flush()
        const last = this.statements.lastSeq.get(name, name)?.seq ?? 0
        this.statements.upsertSnapshot.run(name, Buffer.from(snapshot), last, Date.now())
        this.statements.deleteLog.run(name)
      })
      .immediate()
  }

  async storedBytes(name: string): Promise<number> {
    this.group.flush()
    return this.statements.storedBytes.get(name, name)?.bytes ?? 0
  }
}

export class SqliteStorage implements Storage {
  readonly kind = 'sqlite' as const
  readonly documents: DocumentStore
  readonly subjects: SubjectStore
  readonly users: UserStore
  readonly clientOwners: ClientOwnerStore
  readonly notifications: NotificationStore
  readonly preferences: PreferenceStore
  readonly devices: DeviceStore
  readonly deliveries: DeliveryStore
  readonly search: SearchStore
  readonly feeds: FeedStore
  readonly moderation: ModerationStore
  readonly webhooks: WebhookStore
  readonly contacts: ContactStore
  private readonly db: Database.Database
  private readonly group: GroupCommit
  private readonly derived: GroupCommit

  /** Opens (creating when needed) `<dataDir>/parley.db`, or an explicit file path, or `:memory:`. */
  constructor(file: string, options: SqliteOptions = {}) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true })
    this.db = new Database(file)
    this.db.pragma('journal_mode = WAL')
    // NORMAL in WAL mode: a commit is durable once the process has written it, so it survives a
    // crash or kill -9 of Parley; only an OS crash or power loss can undo the last commits.
    this.db.pragma('synchronous = NORMAL')
    this.db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`)
    this.db.pragma('foreign_keys = ON')
    migrate(this.db)
    const group = new GroupCommit(this.db, { beforeCommit: options.beforeLogCommit })
    // Feed activities, their application and notification records: derived writes, committed after the acknowledged ones.
    const derived = new GroupCommit(this.db, { yieldTo: group })
    this.group = group
    this.derived = derived
    this.documents = new SqliteDocumentStore(this.db, group)
    this.subjects = new SqliteSubjectStore(this.db)
    this.users = new SqliteUserStore(this.db, group)
    this.clientOwners = new SqliteClientOwnerStore(this.db)
    this.notifications = new SqliteNotificationStore(this.db, group, derived)
    this.preferences = new SqlitePreferenceStore(this.db)
    this.devices = new SqliteDeviceStore(this.db)
    this.deliveries = new SqliteDeliveryStore(this.db)
    this.search = new SqliteSearchStore(this.db)
    this.feeds = new SqliteFeedStore(this.db, derived)
    this.moderation = new SqliteModerationStore(this.db)
    this.webhooks = new SqliteWebhookStore(this.db)
    this.contacts = new SqliteContactStore(this.db)
  }

  static inDataDir(dataDir: string, options: SqliteOptions = {}): SqliteStorage {
    return new SqliteStorage(path.join(dataDir, SQLITE_FILE), options)
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get()
  }

  async close(): Promise<void> {
    if (!this.db.open) return
    // Writes waiting for their group are written before the database closes.
    this.group.flush()
    this.derived.flush()
    this.db.close()
  }
}
