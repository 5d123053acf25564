/** Rows of the webhook outbox, shared by the SQLite and PostgreSQL stores. */
import type { WebhookRecord, WebhookStatus } from '../../core/storage/webhook-types.ts'

export const WEBHOOK_COLUMNS = 'id, type, subject, body, status, attempts, next_at, last_error, created_at, updated_at'

export interface WebhookRow {
  id: string
  type: string
  subject: string
  body: string
  status: string
  attempts: number | string
  next_at: number | string
  last_error: string | null
  created_at: number | string
  updated_at: number | string
}

export function toWebhook(row: WebhookRow): WebhookRecord {
  return {
    id: row.id,
    type: row.type,
    subject: row.subject,
    body: row.body,
    status: row.status as WebhookStatus,
    attempts: Number(row.attempts),
    nextAt: Number(row.next_at),
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  }
}
