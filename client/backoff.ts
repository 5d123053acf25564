/** Full-jitter exponential backoff: attempt n waits a random time in [0, min(base·2ⁿ, max)). */
export interface Backoff {
  /** Schedules `run` after the next delay; a pending one is replaced. */
  schedule(run: () => void): void
  /** Back to the first delay (after a success). */
  reset(): void
  cancel(): void
}

export function createBackoff(baseMs: number, maxMs: number): Backoff {
  let attempt = 0
  let timer: ReturnType<typeof setTimeout> | null = null
  const cancel = () => {
    if (timer !== null) clearTimeout(timer)
    timer = null
  }
  return {
    schedule(run) {
      cancel()
      const ceiling = Math.min(baseMs * 2 ** attempt, maxMs)
      attempt++
      timer = setTimeout(() => {
        timer = null
        run()
      }, Math.random() * ceiling)
    },
    reset() {
      attempt = 0
    },
    cancel,
  }
}
