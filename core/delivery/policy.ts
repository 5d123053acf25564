/**
 * The delivery policy every push channel asks before sending (contract additions, "Delivery"):
 * a notification already read, a channel the user turned off for the kind, a muted subject, or a
 * user active on the subject is skipped with its reason; quiet hours hold it until they end
 * (`urgent` bypasses them). Retries back off exponentially with jitter, honour the service's
 * `Retry-After`, and stop after {@link PUSH_MAX_ATTEMPTS}.
 */
import { isUnread } from '../storage/notification-fold.ts'
import type { NotificationRecord } from '../storage/types.ts'
import { mayDeliver, type DeliveryChannel, type Preferences } from '../notifications/preferences.ts'
import type { SkipReason } from './deliveries.ts'

/** Attempts per (notification, device) before the delivery is `dead`. */
export const PUSH_MAX_ATTEMPTS = 8
/** First retry delay; doubles per attempt. */
export const PUSH_RETRY_BASE_MS = 1_000
/** Longest retry delay. */
export const PUSH_RETRY_MAX_MS = 10 * 60_000

export type PushDecision = { send: true } | { send: false; skip: SkipReason } | { send: false; holdUntil: number }

export function decide(record: NotificationRecord, preferences: Preferences, present: boolean, channel: DeliveryChannel, now: number): PushDecision {
  if (!isUnread(record)) return { send: false, skip: 'read' }
  const allowed = mayDeliver(preferences, { kind: record.kind, subjectId: record.subjectId, priority: record.priority }, channel, now)
  if (!allowed.ok) return allowed.error.reason === 'quiet_hours' ? { send: false, holdUntil: allowed.error.until } : { send: false, skip: allowed.error.reason }
  if (present) return { send: false, skip: 'present' }
  return { send: true }
}

/** The delay before attempt `attempts + 1`: exponential, jittered into its upper half, never before `retryAfterMs`. */
export function retryDelay(attempts: number, random: () => number, retryAfterMs?: number): number {
  const ceiling = Math.min(PUSH_RETRY_MAX_MS, PUSH_RETRY_BASE_MS * 2 ** attempts)
  const jittered = ceiling / 2 + random() * (ceiling / 2)
  return Math.round(Math.max(jittered, retryAfterMs ?? 0))
}
