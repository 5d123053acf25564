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

/**
 * The buckets of one owner (a socket, a user), by name. Their state is packed into one array of
 * doubles, tokens and time of last refill per bucket, rather than one object per bucket: a socket
 * has nine buckets, and ten thousand sockets would otherwise hold ninety thousand objects and their
 * boxed numbers (about 0.6 KB a socket, measured from a heap snapshot).
 */
export class Buckets<Name extends string> {
  private readonly layout: BucketLayout<Name>
  /** `[tokens, updatedAt]` per bucket, in the layout's order. */
  private readonly state: number[]

  constructor(layout: BucketLayout<Name>, now: number) {
    this.layout = layout
    this.state = []
    for (const rate of layout.rates) this.state.push(rate.burst, now)
  }

  private refill(slot: number, rate: Rate, now: number): void {
    const updatedAt = this.state[2 * slot + 1]!
    if (now > updatedAt) {
      this.state[2 * slot] = Math.min(rate.burst, this.state[2 * slot]! + ((now - updatedAt) / 1000) * rate.perSecond)
      this.state[2 * slot + 1] = now
    }
  }

  /** Milliseconds until bucket `name` can pay `cost`; 0 when it can now. A free (0) cost never waits. */
  waitMs(name: Name, cost: number, now: number): number {
    if (cost <= 0) return 0
    const slot = this.layout.slot[name]
    const rate = this.layout.rates[slot]!
    this.refill(slot, rate, now)
    const needed = Math.min(cost, rate.burst)
    const tokens = this.state[2 * slot]!
    if (tokens >= needed) return 0
    return Math.max(1, Math.ceil(((needed - tokens) / rate.perSecond) * 1000))
  }

  /** Takes `cost` from bucket `name` (after {@link waitMs} said 0); a cost above the burst leaves it in debt. */
  take(name: Name, cost: number, now: number): void {
    if (cost <= 0) return
    const slot = this.layout.slot[name]
    this.refill(slot, this.layout.rates[slot]!, now)
    this.state[2 * slot] = this.state[2 * slot]! - cost
  }

  /** Takes `cost` if it can be paid now; false (nothing taken) otherwise. For ceilings, which never wait. */
  tryTake(name: Name, cost: number, now: number): boolean {
    if (this.waitMs(name, cost, now) > 0) return false
    this.take(name, cost, now)
    return true
  }

  /** Whether every bucket has refilled completely (the set can be forgotten). */
  isFull(now: number): boolean {
    return this.layout.rates.every((rate, slot) => {
      this.refill(slot, rate, now)
      return this.state[2 * slot]! >= rate.burst
    })
  }
}

/** The names and rates of a kind of {@link Buckets}, shared by every set of that kind. */
export class BucketLayout<Name extends string> {
  readonly rates: readonly Rate[]
  readonly slot: Readonly<Record<Name, number>>

  constructor(rates: Readonly<Record<Name, Rate>>) {
    const names = Object.keys(rates) as Name[]
    this.rates = names.map((name) => rates[name])
    this.slot = Object.fromEntries(names.map((name, slot) => [name, slot])) as Record<Name, number>
  }
}

/** A named group of buckets per key (per user), dropped once idle and full again. */
export class KeyedBuckets<Name extends string> {
  private readonly layout: BucketLayout<Name>
  private readonly groups = new Map<string, { buckets: Buckets<Name>; usedAt: number }>()
  private readonly forgetMs: number
  private lastSweep: number

  constructor(rates: Readonly<Record<Name, Rate>>, forgetMs: number, now: number) {
    this.layout = new BucketLayout(rates)
    this.forgetMs = forgetMs
    this.lastSweep = now
  }

  /** The buckets of `key`, created full on first use. */
  get(key: string, now: number): Buckets<Name> {
    this.sweep(now)
    let group = this.groups.get(key)
    if (!group) {
      group = { buckets: new Buckets(this.layout, now), usedAt: now }
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
      if (idle && group.buckets.isFull(now)) this.groups.delete(key)
    }
  }
}
