/**
 * The per-user REST rate limit: a token bucket per user id (from the verified token), shared by
 * every user route of one server. A request that finds the bucket empty is answered 429
 * `rate_limited` with `Retry-After`: the whole seconds until a token is back. Per instance: with
 * several instances behind a balancer a user gets each instance's budget.
 */
import { err, OK, type Result } from '../../protocol/index.ts'

/** Sustained REST requests per second one user may make (contract floor: 20). */
export const USER_REST_RATE_PER_SECOND = 20

/** REST requests one user may make at once before the rate applies (contract floor: 50). */
export const USER_REST_BURST = 50

/** A bucket idle (and full) this long is forgotten at the next sweep. */
export const USER_REST_BUCKET_IDLE_MS = 60_000

export interface RateSpec {
  perSecond: number
  burst: number
}

/**
 * Served now, or refused with the seconds until a token is back (at least 1) and, for every
 * refusal but the first of a streak, the milliseconds until the first one's `Retry-After` ends: the
 * client asked again before it was over (or sent many at once), and its answer may wait till then.
 */
export type RateDecision = Result<void, { retryAfterSeconds: number; ignoredRetryAfterMs: number }>

interface Bucket {
  tokens: number
  updatedAt: number
  /** The end of the `Retry-After` the first refusal of the current streak gave (0: none). */
  retryAt: number
}

/** Longest a 429 to a client that ignored `Retry-After` is held before it is sent (a tarpit: its loop slows to our pace). */
export const REST_TARPIT_MAX_MS = 1_000

/** Answers held at once per limiter; past this they are sent at once (each held one costs a socket and a timer). */
export const REST_TARPIT_HELD_MAX = 1_000

export interface UserRateLimiter {
  take(userId: string): RateDecision
  /** Waits `ms` (at most {@link REST_TARPIT_MAX_MS}) before a refusal is sent, when fewer than {@link REST_TARPIT_HELD_MAX} wait. */
  hold(ms: number): Promise<void>
  /** Buckets held (users seen recently). */
  readonly size: number
}

export function createUserRateLimiter(
  spec: RateSpec = { perSecond: USER_REST_RATE_PER_SECOND, burst: USER_REST_BURST },
  now: () => number = Date.now,
): UserRateLimiter {
  const buckets = new Map<string, Bucket>()
  let lastSweep = now()
  let held = 0

  const refill = (bucket: Bucket, at: number) => Math.min(spec.burst, bucket.tokens + ((at - bucket.updatedAt) / 1000) * spec.perSecond)

  const sweep = (at: number) => {
    if (at - lastSweep < USER_REST_BUCKET_IDLE_MS) return
    lastSweep = at
    for (const [key, bucket] of buckets) if (at - bucket.updatedAt > USER_REST_BUCKET_IDLE_MS && refill(bucket, at) >= spec.burst) buckets.delete(key)
  }

  return {
    take(userId) {
      const at = now()
      sweep(at)
      const bucket = buckets.get(userId) ?? { tokens: spec.burst, updatedAt: at, retryAt: 0 }
      bucket.tokens = refill(bucket, at)
      bucket.updatedAt = at
      buckets.set(userId, bucket)
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return OK
      }
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / spec.perSecond))
      if (at >= bucket.retryAt) {
        // A new streak of refusals: the first is answered at once.
        bucket.retryAt = at + retryAfterSeconds * 1000
        return err({ retryAfterSeconds, ignoredRetryAfterMs: 0 })
      }
      return err({ retryAfterSeconds, ignoredRetryAfterMs: bucket.retryAt - at })
    },
    async hold(ms) {
      if (ms <= 0 || held >= REST_TARPIT_HELD_MAX) return
      held++
      try {
        await new Promise((resolve) => setTimeout(resolve, Math.min(ms, REST_TARPIT_MAX_MS)))
      } finally {
        held--
      }
    },
    get size() {
      return buckets.size
    },
  }
}
