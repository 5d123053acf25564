/**
 * Calls made in one turn of the event loop, run as one batch (one storage transaction instead of
 * one each), one batch at a time and in call order: what is called while a batch runs waits for
 * the next. `run` answers with a function giving each item's result.
 */
export function turnBatch<I, O>(run: (items: I[]) => Promise<(item: I) => O>): (item: I) => Promise<O> {
  let waiting: Array<{ item: I; resolve(result: O): void; reject(error: unknown): void }> = []
  let running = false
  async function drain(): Promise<void> {
    while (waiting.length > 0) {
      const taken = waiting
      waiting = []
      try {
        const resultOf = await run(taken.map((t) => t.item))
        for (const t of taken) t.resolve(resultOf(t.item))
      } catch (error) {
        for (const t of taken) t.reject(error)
      }
    }
    running = false
  }
  return (item) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject })
      if (!running) {
        running = true
        queueMicrotask(() => void drain())
      }
    })
}
