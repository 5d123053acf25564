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

/** Taking a token: allowed, or refused with the seconds until one is back (at least 1). */
/** Served now, or refused with the seconds to wait. */
export type RateDecision = Result<void, { retryAfterSeconds: number }>

interface Bucket {
  tokens: number
  updatedAt: number
}

export interface UserRateLimiter {
  take(userId: string): RateDecision
  /** Buckets held (users seen recently). */
  readonly size: number
}

export function createUserRateLimiter(
  spec: RateSpec = { perSecond: USER_REST_RATE_PER_SECOND, burst: USER_REST_BURST },
  now: () => number = Date.now,
): UserRateLimiter {
  const buckets = new Map<string, Bucket>()
  let lastSweep = now()

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
      const bucket = buckets.get(userId) ?? { tokens: spec.burst, updatedAt: at }
      bucket.tokens = refill(bucket, at)
      bucket.updatedAt = at
      buckets.set(userId, bucket)
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return OK
      }
      return err({ retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / spec.perSecond)) })
    },
    get size() {
      return buckets.size
    },
  }
}
