/** The webhook outbox (issue 17): each event is recorded before it is sent, then its attempts. */

export const WEBHOOK_STATUSES = ['pending', 'sent', 'dead'] as const
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number]

export interface WebhookRecord {
  /** The event id (`webhook-id`), stable across retries. */
  id: string
  type: string
  /** Ordering key (core/webhooks/events.ts). */
  subject: string
  /** The exact body sent. */
  body: string
  status: WebhookStatus
  attempts: number
  /** When the next attempt is due (ms). */
  nextAt: number
  lastError: string | null
  createdAt: number
  updatedAt: number
}

export interface WebhookStore {
  /** Records a new pending event; an id already recorded is left as it is (false). */
  enqueue(record: Omit<WebhookRecord, 'status' | 'attempts' | 'lastError' | 'updatedAt'>): Promise<boolean>
  get(id: string): Promise<WebhookRecord | null>
  /**
   * Events due at `now`: for each subject only its oldest pending event (in recording order), and
   * only when it is due; subjects in `exclude` are left out. Oldest first, at most `limit`.
   */
  due(now: number, limit: number, exclude: readonly string[]): Promise<WebhookRecord[]>
  /** Records the outcome of an attempt. */
  update(id: string, change: Pick<WebhookRecord, 'status' | 'attempts' | 'nextAt' | 'lastError' | 'updatedAt'>): Promise<void>
  /** When the earliest pending event is due, or null when none is pending. */
  nextDue(): Promise<number | null>
}
