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

/** A new event, as it is recorded. */
export type NewWebhook = Omit<WebhookRecord, 'status' | 'attempts' | 'lastError' | 'updatedAt'>

/** What an attempt changes on its event. */
export type WebhookChange = Pick<WebhookRecord, 'status' | 'attempts' | 'nextAt' | 'lastError' | 'updatedAt'>

export interface WebhookStore {
  /** Records a new pending event; an id already recorded is left as it is (false). */
  enqueue(record: NewWebhook): Promise<boolean>
  /** Records new pending events in one transaction, in this order (their recording order); ids already recorded are left as they are. */
  enqueueMany(records: readonly NewWebhook[]): Promise<void>
  get(id: string): Promise<WebhookRecord | null>
  /**
   * Claims events due at `now` for `owner` until `now + leaseMs`: for each subject only its oldest
   * pending event (in recording order), and only when it is due and nobody holds an unexpired
   * claim on it. Oldest first, at most `limit`. Instances sharing the storage never claim the same
   * event at once (PostgreSQL: `FOR UPDATE SKIP LOCKED`); a claim whose owner died runs out.
   */
  claim(now: number, limit: number, owner: string, leaseMs: number): Promise<WebhookRecord[]>
  /** Records the outcome of `owner`'s attempt and ends its claim; false (nothing changed) when `owner` no longer holds it. */
  settle(id: string, owner: string, change: WebhookChange): Promise<boolean>
  /** {@link settle} for several events in one transaction (attempts that finished together); the ids `owner` still held, whose outcome was recorded. */
  settleMany(owner: string, outcomes: ReadonlyArray<{ id: string; change: WebhookChange }>): Promise<string[]>
  /** Ends every claim of `owner` (a shutdown): its events are due again at once, for any instance. */
  release(owner: string): Promise<void>
  /** Records a change whoever holds the event (an operator's retry). */
  update(id: string, change: WebhookChange): Promise<void>
  /** When the earliest pending event is due (or its claim runs out), or null when none is pending. */
  nextDue(): Promise<number | null>
}
