/** Waiting with deadlines (never a bare sleep) and bounded concurrency. */

/** How often {@link waitFor} re-checks its condition. */
const POLL_MS = 20

/** Resolves once `condition()` holds; rejects with `message` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, message: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

/** Like {@link waitFor} but resolves `false` instead of rejecting at the deadline. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  try {
    await waitFor(condition, 'condition', timeoutMs)
    return true
  } catch {
    return false
  }
}

/** Resolves at performance-clock time `at` (or at once if it has passed). */
export function untilTime(at: number): Promise<void> {
  const delay = at - performance.now()
  return delay <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, delay))
}

/** `promise`, or a rejection naming `label` after `timeoutMs`. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no result within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Runs `task` for each item with at most `concurrency` in flight; settles every item and returns
 * the results and errors in item order.
 */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<Array<PromiseSettledResult<R>>> {
  const results: Array<PromiseSettledResult<R>> = new Array<PromiseSettledResult<R>>(items.length)
  let next = 0
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) {
      const item = items[index] as T
      try {
        results[index] = { status: 'fulfilled', value: await task(item, index) }
      } catch (reason) {
        results[index] = { status: 'rejected', reason }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  return results
}
