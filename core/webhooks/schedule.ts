/**
 * When a webhook is tried again: a schedule like Svix's (at once, 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h, 10 h), then dead. `Retry-After` on 429/503 replaces the next delay (bounded below by
 * it, never shorter than the schedule's). A 410 pauses the endpoint.
 */

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE

/** Delay before each attempt; attempt n (0-based) waits `schedule[n]` after the previous failure. */
export const DEFAULT_WEBHOOK_SCHEDULE_MS: readonly number[] = [0, 5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]

/** The longest `Retry-After` honoured; a longer one is capped. */
export const MAX_RETRY_AFTER_MS = 24 * HOUR

/** What a receiver's answer (or its absence) means for the event. */
export type AttemptOutcome = { kind: 'sent' } | { kind: 'gone' } | { kind: 'retry'; retryAfterMs: number | null }

/** Classifies an HTTP status (null: no answer: timeout, refused connection). */
export function classifyAnswer(status: number | null, retryAfter: string | null, now: number): AttemptOutcome {
  if (status !== null && status >= 200 && status < 300) return { kind: 'sent' }
  if (status === 410) return { kind: 'gone' }
  const honour = status === 429 || status === 503
  return { kind: 'retry', retryAfterMs: honour ? parseRetryAfter(retryAfter, now) : null }
}

/** `Retry-After` as seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * SECOND, MAX_RETRY_AFTER_MS)
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return null
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS)
}

/**
 * When the next attempt is due after `attempts` failed ones, or null when the schedule is spent
 * (the event is dead).
 */
export function nextAttemptAt(schedule: readonly number[], attempts: number, now: number, retryAfterMs: number | null): number | null {
  const delay = schedule[attempts]
  if (delay === undefined) return null
  return now + Math.max(delay, retryAfterMs ?? 0)
}
