/** The webhook outbox in PostgreSQL (core/storage/webhook-types.ts). */
import type { WebhookRecord, WebhookStore } from '../../../core/storage/webhook-types.ts'
import { WEBHOOK_COLUMNS, toWebhook, type WebhookRow } from '../webhook-rows.ts'
import type { PostgresPool } from './pool.ts'

export class PostgresWebhookStore implements WebhookStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  async enqueue(record: Omit<WebhookRecord, 'status' | 'attempts' | 'lastError' | 'updatedAt'>): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>(
      `INSERT INTO webhooks (${WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, 'pending', 0, $5, NULL, $6, $6) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [record.id, record.type, record.subject, record.body, record.nextAt, record.createdAt],
    )
    return rows.length > 0
  }

  async get(id: string): Promise<WebhookRecord | null> {
    const rows = await this.db.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1`, [id])
    return rows[0] ? toWebhook(rows[0]) : null
  }

  async due(now: number, limit: number, exclude: readonly string[]): Promise<WebhookRecord[]> {
    const rows = await this.db.query<WebhookRow>(
      `SELECT ${WEBHOOK_COLUMNS} FROM webhooks w
       WHERE w.status = 'pending' AND w.next_at <= $1 AND NOT (w.subject = ANY($3::text[]))
         AND NOT EXISTS (SELECT 1 FROM webhooks p WHERE p.subject = w.subject AND p.status = 'pending' AND p.seq < w.seq)
       ORDER BY w.seq LIMIT $2`,
      [now, limit, [...exclude]],
    )
    return rows.map(toWebhook)
  }

  async update(id: string, change: Pick<WebhookRecord, 'status' | 'attempts' | 'nextAt' | 'lastError' | 'updatedAt'>): Promise<void> {
    await this.db.query(`UPDATE webhooks SET status = $2, attempts = $3, next_at = $4, last_error = $5, updated_at = $6 WHERE id = $1`, [
      id,
      change.status,
      change.attempts,
      change.nextAt,
      change.lastError,
      change.updatedAt,
    ])
  }

  async nextDue(): Promise<number | null> {
    const rows = await this.db.query<{ at: string | number | null }>(`SELECT MIN(next_at) AS at FROM webhooks WHERE status = 'pending'`)
    const at = rows[0]?.at
    return at === null || at === undefined ? null : Number(at)
  }
}
