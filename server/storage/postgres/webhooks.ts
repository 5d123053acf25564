/** The webhook outbox in PostgreSQL (core/storage/webhook-types.ts). */
import type { NewWebhook, WebhookChange, WebhookRecord, WebhookStore } from '../../../core/storage/webhook-types.ts'
import { WEBHOOK_COLUMNS, toWebhook, type WebhookRow } from '../webhook-rows.ts'
import type { PostgresPool } from './pool.ts'

/** Events one INSERT records (6 parameters each, far below PostgreSQL's 65,535). */
const ENQUEUE_ROWS = 500

export class PostgresWebhookStore implements WebhookStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  async enqueueMany(records: readonly NewWebhook[]): Promise<void> {
    for (let from = 0; from < records.length; from += ENQUEUE_ROWS) {
      const rows = records.slice(from, from + ENQUEUE_ROWS)
      // VALUES rows take their seq in the order they are listed
      const values = rows.map(
        (_, i) => `($${i * 6 + 1}, $${i * 6 + 2}, $${i * 6 + 3}, $${i * 6 + 4}, 'pending', 0, $${i * 6 + 5}, NULL, $${i * 6 + 6}, $${i * 6 + 6})`,
      )
      await this.db.query(
        `INSERT INTO webhooks (${WEBHOOK_COLUMNS}) VALUES ${values.join(', ')} ON CONFLICT (id) DO NOTHING`,
        rows.flatMap((r) => [r.id, r.type, r.subject, r.body, r.nextAt, r.createdAt]),
      )
    }
  }

  async enqueue(record: NewWebhook): Promise<boolean> {
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

  async claim(now: number, limit: number, owner: string, leaseMs: number): Promise<WebhookRecord[]> {
    // Rows another instance is claiming right now are skipped (SKIP LOCKED); once its claim is
    // committed their lease keeps them out, and the next event of their subject is not the oldest.
    // The heads come from the partial index of pending rows, not from every event ever sent.
    const rows = await this.db.query<WebhookRow & { seq: string | number }>(
      `WITH heads AS (
         SELECT w.seq FROM webhooks w
         WHERE w.seq IN (SELECT MIN(seq) FROM webhooks WHERE status = 'pending' GROUP BY subject)
           AND w.status = 'pending' AND w.next_at <= $1 AND w.lease_until <= $1
         ORDER BY w.seq LIMIT $2
         FOR UPDATE OF w SKIP LOCKED
       )
       UPDATE webhooks SET lease_owner = $3, lease_until = $4 FROM heads WHERE webhooks.seq = heads.seq
       RETURNING webhooks.seq, ${WEBHOOK_COLUMNS.split(', ')
         .map((c) => `webhooks.${c}`)
         .join(', ')}`,
      [now, limit, owner, now + leaseMs],
    )
    return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(toWebhook)
  }

  async settle(id: string, owner: string, change: WebhookChange): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>(
      `UPDATE webhooks SET status = $3, attempts = $4, next_at = $5, last_error = $6, updated_at = $7, lease_owner = NULL, lease_until = 0
       WHERE id = $1 AND lease_owner = $2 RETURNING id`,
      [id, owner, change.status, change.attempts, change.nextAt, change.lastError, change.updatedAt],
    )
    return rows.length > 0
  }

  async settleMany(owner: string, outcomes: ReadonlyArray<{ id: string; change: WebhookChange }>): Promise<string[]> {
    if (outcomes.length === 0) return []
    // one statement: the outcomes as parallel arrays, joined by id
    const rows = await this.db.query<{ id: string }>(
      `UPDATE webhooks w SET status = o.status, attempts = o.attempts, next_at = o.next_at, last_error = o.last_error, updated_at = o.updated_at,
         lease_owner = NULL, lease_until = 0
       FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[], $7::bigint[]) AS o(id, status, attempts, next_at, last_error, updated_at)
       WHERE w.id = o.id AND w.lease_owner = $1 RETURNING w.id`,
      [
        owner,
        outcomes.map((o) => o.id),
        outcomes.map((o) => o.change.status),
        outcomes.map((o) => o.change.attempts),
        outcomes.map((o) => o.change.nextAt),
        outcomes.map((o) => o.change.lastError),
        outcomes.map((o) => o.change.updatedAt),
      ],
    )
    const held = new Set(rows.map((r) => r.id))
    return outcomes.filter((o) => held.has(o.id)).map((o) => o.id)
  }

  async release(owner: string): Promise<void> {
    await this.db.query(`UPDATE webhooks SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = $1`, [owner])
  }

  async update(id: string, change: WebhookChange): Promise<void> {
    await this.db.query(
      `UPDATE webhooks SET status = $2, attempts = $3, next_at = $4, last_error = $5, updated_at = $6, lease_owner = NULL, lease_until = 0 WHERE id = $1`,
      [id, change.status, change.attempts, change.nextAt, change.lastError, change.updatedAt],
    )
  }

  async nextDue(): Promise<number | null> {
    const rows = await this.db.query<{ at: string | number | null }>(`SELECT MIN(GREATEST(next_at, lease_until)) AS at FROM webhooks WHERE status = 'pending'`)
    const at = rows[0]?.at
    return at === null || at === undefined ? null : Number(at)
  }
}
