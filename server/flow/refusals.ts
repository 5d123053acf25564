/**
 * Backoff for sockets closed after a refusal. A provider that knows nothing of `parley.error`
 * reconnects after a close and sends the same refused changes again in its handshake; each repeat
 * of the same refusal (same sender, document and client ids) within
 * {@link REFUSAL_FORGET_MS} waits longer before its socket is closed, so that such a loop costs
 * the server one handshake per hold, growing to {@link REFUSAL_BACKOFF_MAX_MS}.
 */
import { REFUSAL_BACKOFF_BASE_MS, REFUSAL_BACKOFF_MAX_MS, REFUSAL_FORGET_MS } from './limits.ts'

export interface RefusalBackoffLimits {
  baseMs: number
  maxMs: number
  forgetMs: number
}

export const DEFAULT_REFUSAL_BACKOFF: RefusalBackoffLimits = { baseMs: REFUSAL_BACKOFF_BASE_MS, maxMs: REFUSAL_BACKOFF_MAX_MS, forgetMs: REFUSAL_FORGET_MS }

export class RefusalBackoff {
  private readonly limits: RefusalBackoffLimits
  private readonly strikes = new Map<string, { count: number; at: number }>()
  private lastSweep: number

  constructor(limits: RefusalBackoffLimits, now: number) {
    this.limits = limits
    this.lastSweep = now
  }

  /**
   * Records one refusal of `key` and returns how long to hold the socket before closing it: 0 the
   * first time, then `baseMs`, doubling, at most `maxMs`.
   */
  holdMs(key: string, now: number): number {
    this.sweep(now)
    const previous = this.strikes.get(key)
    const count = previous && now - previous.at < this.limits.forgetMs ? previous.count + 1 : 1
    this.strikes.set(key, { count, at: now })
    if (count <= 1) return 0
    return Math.min(this.limits.maxMs, this.limits.baseMs * 2 ** Math.min(count - 2, 30))
  }

  get size(): number {
    return this.strikes.size
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.limits.forgetMs) return
    this.lastSweep = now
    for (const [key, strike] of this.strikes) if (now - strike.at >= this.limits.forgetMs) this.strikes.delete(key)
  }
}
