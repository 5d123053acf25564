/**
 * Times written into documents: whole milliseconds since the epoch, not before
 * {@link EARLIEST_TIME_MS} (2020-01-01) and not more than {@link MAX_CLOCK_SKEW_MS} past the
 * server's clock. Offline writes carry past times, so only the future is bounded.
 */
import { EARLIEST_TIME_MS, MAX_CLOCK_SKEW_MS } from '../../protocol/index.ts'

/** Whether a value is a time the guard accepts, judged at `now` (the server's clock). */
export function isSaneTime(value: unknown, now: number = Date.now()): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= EARLIEST_TIME_MS && value <= now + MAX_CLOCK_SKEW_MS
}

/** Why `value` is not an acceptable time for `field`, or null when it is. */
export function timeRefusal(field: string, value: unknown, now: number = Date.now()): string | null {
  if (isSaneTime(value, now)) return null
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return `${field} must be a time: whole milliseconds since the epoch`
  if (value < EARLIEST_TIME_MS) return `${field} must not be before 2020-01-01 (${EARLIEST_TIME_MS})`
  return `${field} must not be more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes ahead of the server's clock`
}
