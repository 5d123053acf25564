/** Waits for a condition with a deadline; never a bare sleep. */
export const DEFAULT_WAIT_MS = 10_000

export async function waitFor(condition: () => boolean | Promise<boolean>, message: string, timeoutMs: number = DEFAULT_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${message}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Resolves with the first value `produce` returns that is not undefined. */
export async function waitForValue<T>(produce: () => T | undefined, message: string, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
  let value: T | undefined
  await waitFor(() => (value = produce()) !== undefined, message, timeoutMs)
  return value as T
}
