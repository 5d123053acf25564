/** The webhook outbox in SQLite (core/storage/webhook-types.ts). */
import type Database from 'better-sqlite3'
import type { NewWebhook, WebhookChange, WebhookRecord, WebhookStore } from '../../../core/storage/webhook-types.ts'
import { WEBHOOK_COLUMNS, toWebhook, type WebhookRow } from '../webhook-rows.ts'

export class SqliteWebhookStore implements WebhookStore {
  private readonly db: Database.Database
  private readonly s

  constructor(db: Database.Database) {
    this.db = db
    this.s = {
      enqueue: db.prepare(
        `INSERT OR IGNORE INTO webhooks (${WEBHOOK_COLUMNS}) VALUES (@id, @type, @subject, @body, 'pending', 0, @nextAt, NULL, @createdAt, @createdAt)`,
      ),
      get: db.prepare<[string], WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?`),
      // The oldest pending event of each subject, from the partial index of pending rows: the cost
      // follows what is pending, not every event ever sent (a scan of the table in seq order would).
      heads: db.prepare<[{ now: number; limit: number }], WebhookRow>(
        `SELECT ${WEBHOOK_COLUMNS} FROM webhooks w
         WHERE w.seq IN (SELECT MIN(seq) FROM webhooks WHERE status = 'pending' GROUP BY subject)
           AND w.next_at <= @now AND w.lease_until <= @now
         ORDER BY w.seq LIMIT @limit`,
      ),
      lease: db.prepare(`UPDATE webhooks SET lease_owner = @owner, lease_until = @until WHERE id = @id`),
      settle: db.prepare(
        `UPDATE webhooks SET status = @status, attempts = @attempts, next_at = @nextAt, last_error = @lastError, updated_at = @updatedAt,
           lease_owner = NULL, lease_until = 0
         WHERE id = @id AND lease_owner = @owner`,
      ),
      release: db.prepare(`UPDATE webhooks SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = ?`),
      update: db.prepare(
        `UPDATE webhooks SET status = @status, attempts = @attempts, next_at = @nextAt, last_error = @lastError, updated_at = @updatedAt,
           lease_owner = NULL, lease_until = 0
         WHERE id = @id`,
      ),
      nextDue: db.prepare<[], { at: number | null }>(`SELECT MIN(MAX(next_at, lease_until)) AS at FROM webhooks WHERE status = 'pending'`),
    }
  }

  async enqueue(record: NewWebhook): Promise<boolean> {
    return this.s.enqueue.run(record).changes > 0
  }

  async enqueueMany(records: readonly NewWebhook[]): Promise<void> {
    this.db.transaction(() => {
      for (const record of records) this.s.enqueue.run(record)
    })()
  }

  async get(id: string): Promise<WebhookRecord | null> {
    const row = this.s.get.get(id)
    return row ? toWebhook(row) : null
  }

  async claim(now: number, limit: number, owner: string, leaseMs: number): Promise<WebhookRecord[]> {
    // One immediate transaction: processes sharing the file take turns.
    const run = this.db.transaction(() => {
      const rows = this.s.heads.all({ now, limit })
      for (const row of rows) this.s.lease.run({ id: row.id, owner, until: now + leaseMs })
      return rows.map(toWebhook)
    })
    return run.immediate()
  }

  async settle(id: string, owner: string, change: WebhookChange): Promise<boolean> {
    return this.s.settle.run({ id, owner, ...change }).changes > 0
  }

  async settleMany(owner: string, outcomes: ReadonlyArray<{ id: string; change: WebhookChange }>): Promise<string[]> {
    const run = this.db.transaction(() => outcomes.filter(({ id, change }) => this.s.settle.run({ id, owner, ...change }).changes > 0).map(({ id }) => id))
    return run()
  }

  async release(owner: string): Promise<void> {
    this.s.release.run(owner)
  }

  async update(id: string, change: WebhookChange): Promise<void> {
    this.s.update.run({ id, ...change })
  }

  async nextDue(): Promise<number | null> {
    return this.s.nextDue.get()?.at ?? null
  }
}
