/** Token buckets, keyed (per socket, per user, per address), forgotten once full and idle. */

export interface BucketSpec {
  perSecond: number
  burst: number
}

interface Bucket {
  tokens: number
  updatedAt: number
}

/** Keys idle this long with a full bucket are dropped on the next sweep. */
const IDLE_FORGET_MS = 60_000

export class RateLimiter {
  private readonly spec: BucketSpec
  private readonly buckets = new Map<string, Bucket>()
  private readonly now: () => number
  private lastSweep: number

  constructor(spec: BucketSpec, now: () => number = Date.now) {
    this.spec = spec
    this.now = now
    this.lastSweep = now()
  }

  /** Takes one token for `key`; false when the bucket is empty (the message must be refused). */
  take(key: string): boolean {
    const now = this.now()
    this.sweep(now)
    const bucket = this.buckets.get(key) ?? { tokens: this.spec.burst, updatedAt: now }
    bucket.tokens = Math.min(this.spec.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.spec.perSecond)
    bucket.updatedAt = now
    this.buckets.set(key, bucket)
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  get size(): number {
    return this.buckets.size
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < IDLE_FORGET_MS) return
    this.lastSweep = now
    for (const [key, bucket] of this.buckets) {
      const refilled = bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.spec.perSecond
      if (refilled >= this.spec.burst && now - bucket.updatedAt > IDLE_FORGET_MS) this.buckets.delete(key)
    }
  }
}

/** Counts events in a sliding window (for "persistent abuse"). */
export class WindowCounter {
  private readonly windowMs: number
  private readonly events = new Map<string, number[]>()

  constructor(windowMs: number) {
    this.windowMs = windowMs
  }

  /** Records one event for `key` and returns how many fall in the window. */
  hit(key: string, now = Date.now()): number {
    const list = (this.events.get(key) ?? []).filter((t) => now - t < this.windowMs)
    list.push(now)
    this.events.set(key, list)
    return list.length
  }

  forget(key: string): void {
    this.events.delete(key)
  }
}
