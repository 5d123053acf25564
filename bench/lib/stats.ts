/** Percentiles, medians and a growable sample buffer. */

/** Initial capacity of a {@link Samples} buffer; it doubles when full. */
const INITIAL_SAMPLES = 1024

/** Numbers recorded in a typed array (no boxing, cheap to sort). */
export class Samples {
  private values = new Float64Array(INITIAL_SAMPLES)
  private size = 0

  add(value: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.size++] = value
  }

  get count(): number {
    return this.size
  }

  /** A sorted copy of the values. */
  sorted(): Float64Array {
    return this.values.slice(0, this.size).sort()
  }
}

/** The p-th percentile (0..100) of sorted values, nearest-rank; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN
}

export interface Distribution {
  count: number
  p50: number
  p95: number
  p99: number
  max: number
  mean: number
}

export function distribution(samples: Samples | number[]): Distribution {
  const sorted = samples instanceof Samples ? samples.sorted() : Float64Array.from(samples).sort()
  let sum = 0
  for (const value of sorted) sum += value
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? (sorted[sorted.length - 1] ?? Number.NaN) : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  }
}

/** The median of the finite values; NaN when there is none. */
export function median(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (finite.length === 0) return Number.NaN
  const mid = Math.floor(finite.length / 2)
  const upper = finite[mid] ?? Number.NaN
  return finite.length % 2 === 1 ? upper : ((finite[mid - 1] ?? upper) + upper) / 2
}

/** Rounds for reports: 3 significant digits below 100, whole numbers above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value
  if (Math.abs(value) >= 100) return Math.round(value)
  return Number(value.toPrecision(3))
}
