/**
 * How many new client ids each user may still introduce in each document: a token bucket per
 * (document, user) holding {@link MAX_NEW_CLIENTS_PER_HOUR}, refilled evenly over an hour. Every
 * client id a document has ever seen stays in its state vector, sent with every sync, so a user
 * who mints client ids without end bloats the document for everyone.
 *
 * Kept per guard (not per loaded document), so unloading a document does not refill it; a restart
 * does. Full buckets are forgotten, so the map holds only users who introduced ids recently.
 */
import { MAX_NEW_CLIENTS_PER_HOUR } from './limits.ts'

const HOUR_MS = 60 * 60 * 1000

interface Bucket {
  tokens: number
  at: number
}

export class ClientQuota {
  private readonly capacity: number
  private readonly buckets = new Map<string, Bucket>()
  /** Full buckets are swept when the map grows past this (then twice what is left), so sweeps are amortized. */
  private sweepAt = 1024

  constructor(capacity = MAX_NEW_CLIENTS_PER_HOUR) {
    this.capacity = capacity
  }

  /** Takes `count` new client ids for the user in the document; false (and nothing taken) when too few are left. */
  take(documentName: string, userId: string, count: number, now = Date.now()): boolean {
    if (count === 0) return true
    const key = `${documentName}\n${userId}`
    const bucket = this.refilled(this.buckets.get(key), now)
    if (bucket.tokens < count) {
      this.buckets.set(key, bucket)
      return false
    }
    bucket.tokens -= count
    this.buckets.set(key, bucket)
    if (this.buckets.size > this.sweepAt) {
      this.forgetFull(now)
      this.sweepAt = Math.max(1024, this.buckets.size * 2)
    }
    return true
  }

  private refilled(bucket: Bucket | undefined, now: number): Bucket {
    if (!bucket) return { tokens: this.capacity, at: now }
    const tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.at) * this.capacity) / HOUR_MS)
    return { tokens, at: now }
  }

  private forgetFull(now: number): void {
    for (const [key, bucket] of this.buckets) if (this.refilled(bucket, now).tokens >= this.capacity) this.buckets.delete(key)
  }
}
