/**
 * Token buckets that say how long to wait rather than yes or no: the gate delays a frame until
 * every bucket it draws on can pay for it. A cost larger than the bucket waits for a full bucket
 * and then leaves the bucket in debt, so that a large frame slows what follows instead of being
 * refused.
 */

/** A sustained rate and the burst allowed above it. */
export interface Rate {
  perSecond: number
  burst: number
}

export class TokenBucket {
  private readonly rate: Rate
  private tokens: number
  private updatedAt: number

  constructor(rate: Rate, now: number) {
    this.rate = rate
    this.tokens = rate.burst
    this.updatedAt = now
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.rate.perSecond)
      this.updatedAt = now
    }
  }

  /** Milliseconds until `cost` can be taken; 0 when it can be now. A free (0) cost never waits. */
  waitMs(cost: number, now: number): number {
    if (cost <= 0) return 0
    this.refill(now)
    const needed = Math.min(cost, this.rate.burst)
    if (this.tokens >= needed) return 0
    return Math.max(1, Math.ceil(((needed - this.tokens) / this.rate.perSecond) * 1000))
  }

  /** Takes `cost` (after {@link waitMs} said 0); a cost above the burst leaves the bucket in debt. */
  take(cost: number, now: number): void {
    if (cost <= 0) return
    this.refill(now)
    this.tokens -= cost
  }

  /** Takes `cost` if it can be paid now; false (nothing taken) otherwise. For ceilings, which never wait. */
  tryTake(cost: number, now: number): boolean {
    if (this.waitMs(cost, now) > 0) return false
    this.take(cost, now)
    return true
  }

  /** Whether the bucket has refilled completely (it can be forgotten). */
  isFull(now: number): boolean {
    this.refill(now)
    return this.tokens >= this.rate.burst
  }
}

/** A named group of buckets per key (per user), dropped once idle and full again. */
export class KeyedBuckets<Name extends string> {
  private readonly rates: Readonly<Record<Name, Rate>>
  private readonly groups = new Map<string, { buckets: Record<Name, TokenBucket>; usedAt: number }>()
  private readonly forgetMs: number
  private lastSweep: number

  constructor(rates: Readonly<Record<Name, Rate>>, forgetMs: number, now: number) {
    this.rates = rates
    this.forgetMs = forgetMs
    this.lastSweep = now
  }

  /** The buckets of `key`, created full on first use. */
  get(key: string, now: number): Record<Name, TokenBucket> {
    this.sweep(now)
    let group = this.groups.get(key)
    if (!group) {
      const buckets = {} as Record<Name, TokenBucket>
      for (const name of Object.keys(this.rates) as Name[]) buckets[name] = new TokenBucket(this.rates[name], now)
      group = { buckets, usedAt: now }
      this.groups.set(key, group)
    }
    group.usedAt = now
    return group.buckets
  }

  get size(): number {
    return this.groups.size
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.forgetMs) return
    this.lastSweep = now
    for (const [key, group] of this.groups) {
      const idle = now - group.usedAt > this.forgetMs
      if (idle && (Object.values(group.buckets) as TokenBucket[]).every((bucket) => bucket.isFull(now))) this.groups.delete(key)
    }
  }
}
