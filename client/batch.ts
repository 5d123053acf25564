/**
 * Coalesces bursts of document changes into one notification per tick (a macrotask), so that a
 * sync that applies many transactions redraws a UI once.
 */
export function batchPerTick(notify: () => void): { schedule(): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null
  return {
    schedule() {
      if (timer !== null) return
      timer = setTimeout(() => {
        timer = null
        notify()
      }, 0)
    },
    cancel() {
      if (timer !== null) clearTimeout(timer)
      timer = null
    },
  }
}
