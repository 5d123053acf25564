/** The 95th percentile of a sample (0 for none), as the timing tests report delivery. */
export function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0
}

/**
 * The median over windows of each window's p95: a burst of other work on a shared machine that
 * falls on one or two windows moves a pooled p95 a lot and this one not at all, while a slowdown
 * that every window of a kind shares moves it fully.
 */
export function windowedP95(windows: readonly number[][]): number {
  const perWindow = windows.map((w) => p95([...w])).sort((a, b) => a - b)
  const middle = Math.floor(perWindow.length / 2)
  if (perWindow.length === 0) return 0
  return perWindow.length % 2 === 1 ? (perWindow[middle] ?? 0) : ((perWindow[middle - 1] ?? 0) + (perWindow[middle] ?? 0)) / 2
}
