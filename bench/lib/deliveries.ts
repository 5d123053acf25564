/**
 * Book-keeping of sent updates and their deliveries: each update has a sequence number (carried
 * in its comment id), a send time and a number of expected recipients; each arrival adds a
 * latency sample. Updates sent during warm-up are delivered and checked but not sampled.
 */
import { Samples } from './stats.ts'

/** Initial capacity in sequence numbers; arrays double when full. */
const INITIAL_CAPACITY = 4096
/** `BENCH_TIMELINE=1`: keep every measured latency by the second its update was sent ({@link Deliveries.timeline}). */
const TIMELINE = process.env.BENCH_TIMELINE === '1'

export interface DeliveryTotals {
  /** Measured updates sent. */
  sent: number
  /** Deliveries expected for them. */
  expected: number
  /** Deliveries observed for them (duplicates not counted). */
  received: number
  /** expected − received. */
  missing: number
}

export class Deliveries {
  /** Arrival minus send time, in ms, of measured updates at light readers. */
  readonly latencies = new Samples()
  /** The same at full Yjs probe readers (after the update is applied). */
  readonly probeLatencies = new Samples()
  private sentAt = new Float64Array(INITIAL_CAPACITY)
  private expected = new Uint32Array(INITIAL_CAPACITY)
  private received = new Uint32Array(INITIAL_CAPACITY)
  private measured = new Uint8Array(INITIAL_CAPACITY)
  private last = 0

  /** The next sequence number (1, 2, …). */
  next(): number {
    const seq = ++this.last
    if (seq >= this.sentAt.length) this.grow()
    return seq
  }

  private grow(): void {
    const size = this.sentAt.length * 2
    const grow = <T extends Float64Array | Uint32Array | Uint8Array>(old: T, fresh: T): T => {
      fresh.set(old)
      return fresh
    }
    this.sentAt = grow(this.sentAt, new Float64Array(size))
    this.expected = grow(this.expected, new Uint32Array(size))
    this.received = grow(this.received, new Uint32Array(size))
    this.measured = grow(this.measured, new Uint8Array(size))
  }

  /** Records that update `seq` was sent now to `recipients` readers. */
  sent(seq: number, recipients: number, measured: boolean, at: number = performance.now()): void {
    this.sentAt[seq] = at
    this.expected[seq] = recipients
    this.measured[seq] = measured ? 1 : 0
  }

  /** A light reader received update `seq` at `at`. Unknown sequence numbers are ignored. */
  receive(seq: number, at: number): void {
    if (seq < 1 || seq > this.last) return
    this.received[seq] = (this.received[seq] ?? 0) + 1
    if (this.measured[seq]) this.latencies.add(at - (this.sentAt[seq] ?? at))
    if (TIMELINE && this.measured[seq]) {
      const sentAt = this.sentAt[seq] ?? at
      const second = Math.floor(sentAt / 1000)
      let list = this.bySecond.get(second)
      if (!list) this.bySecond.set(second, (list = []))
      list.push(at - sentAt)
    }
  }

  private readonly bySecond = new Map<number, number[]>()

  /**
   * With `BENCH_TIMELINE=1`, the measured deliveries by the second their update was sent (from the
   * first measured send): whether latency holds steady or the server falls behind, and when.
   */
  timeline(): string[] {
    const seconds = [...this.bySecond].sort((a, b) => a[0] - b[0])
    const origin = seconds[0]?.[0] ?? 0
    return seconds.map(([second, list]) => {
      list.sort((a, b) => a - b)
      const at = (q: number) => (list[Math.min(list.length - 1, Math.floor(list.length * q))] ?? 0).toFixed(0)
      return `second ${second - origin}: ${list.length} deliveries, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`
    })
  }

  /** A probe reader applied update `seq` at `at` (not counted as a delivery). */
  receiveProbe(seq: number, at: number): void {
    if (seq < 1 || seq > this.last || !this.measured[seq]) return
    this.probeLatencies.add(at - (this.sentAt[seq] ?? at))
  }

  /** Totals over the measured updates. */
  totals(): DeliveryTotals {
    const totals: DeliveryTotals = { sent: 0, expected: 0, received: 0, missing: 0 }
    for (let seq = 1; seq <= this.last; seq++) {
      if (!this.measured[seq]) continue
      const expected = this.expected[seq] ?? 0
      totals.sent++
      totals.expected += expected
      totals.received += Math.min(expected, this.received[seq] ?? 0)
    }
    totals.missing = totals.expected - totals.received
    return totals
  }

  /** Has every update sent so far (measured or not) reached all its recipients? */
  complete(): boolean {
    for (let seq = 1; seq <= this.last; seq++) {
      if ((this.received[seq] ?? 0) < (this.expected[seq] ?? 0)) return false
    }
    return true
  }
}
