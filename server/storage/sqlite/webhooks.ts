/** The webhook outbox in SQLite (core/storage/webhook-types.ts). */
import type Database from 'better-sqlite3'
import type { WebhookRecord, WebhookStore } from '../../../core/storage/webhook-types.ts'
import { WEBHOOK_COLUMNS, toWebhook, type WebhookRow } from '../webhook-rows.ts'

export class SqliteWebhookStore implements WebhookStore {
  private readonly s

  constructor(db: Database.Database) {
    this.s = {
      enqueue: db.prepare(
        `INSERT OR IGNORE INTO webhooks (${WEBHOOK_COLUMNS}) VALUES (@id, @type, @subject, @body, 'pending', 0, @nextAt, NULL, @createdAt, @createdAt)`,
      ),
      get: db.prepare<[string], WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?`),
      due: db.prepare<[{ now: number; limit: number; exclude: string }], WebhookRow>(
        `SELECT ${WEBHOOK_COLUMNS} FROM webhooks w
         WHERE w.status = 'pending' AND w.next_at <= @now
           AND w.subject NOT IN (SELECT value FROM json_each(@exclude))
           AND NOT EXISTS (SELECT 1 FROM webhooks p WHERE p.subject = w.subject AND p.status = 'pending' AND p.seq < w.seq)
         ORDER BY w.seq LIMIT @limit`,
      ),
      update: db.prepare(
        `UPDATE webhooks SET status = @status, attempts = @attempts, next_at = @nextAt, last_error = @lastError, updated_at = @updatedAt WHERE id = @id`,
      ),
      nextDue: db.prepare<[], { at: number | null }>(`SELECT MIN(next_at) AS at FROM webhooks WHERE status = 'pending'`),
    }
  }

  async enqueue(record: Omit<WebhookRecord, 'status' | 'attempts' | 'lastError' | 'updatedAt'>): Promise<boolean> {
    return this.s.enqueue.run(record).changes > 0
  }

  async get(id: string): Promise<WebhookRecord | null> {
    const row = this.s.get.get(id)
    return row ? toWebhook(row) : null
  }

  async due(now: number, limit: number, exclude: readonly string[]): Promise<WebhookRecord[]> {
    return this.s.due.all({ now, limit, exclude: JSON.stringify(exclude) }).map(toWebhook)
  }

  async update(id: string, change: Pick<WebhookRecord, 'status' | 'attempts' | 'nextAt' | 'lastError' | 'updatedAt'>): Promise<void> {
    this.s.update.run({ id, ...change })
  }

  async nextDue(): Promise<number | null> {
    return this.s.nextDue.get()?.at ?? null
  }
}
