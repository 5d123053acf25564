/**
 * Test-only fault injection: `PARLEY_FAULT=<point>` makes the process kill itself (SIGKILL, as
 * `kill -9` would) when it reaches the named point, so that crash tests hit exactly the window
 * they mean to. Refused when NODE_ENV=production (the configuration does not load).
 */

/** The named points. */
export const FAULT_POINTS = [
  /** A write was applied and acknowledged; its mentions are about to be detected. */
  'before-detection',
  /** Notifications and their outbox rows are committed; nothing has been projected yet. */
  'after-outbox',
  /** A push service accepted a push; its delivery is not recorded yet. */
  'push-after-send',
  /** The SMTP server accepted an email; its delivery is not recorded yet. */
  'email-after-send',
] as const

export type FaultPoint = (typeof FAULT_POINTS)[number]

/** Time given to the socket to flush what was already sent (the acknowledgement) before the kill. */
export const FAULT_FLUSH_MS = 50

export interface Faults {
  /** Never resolves at the configured point (the process dies); resolves at once elsewhere. */
  at(point: FaultPoint): Promise<void>
}

export function createFaults(point: FaultPoint | undefined): Faults {
  return {
    at(reached) {
      if (reached !== point) return Promise.resolve()
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), FAULT_FLUSH_MS)
      return new Promise<void>(() => undefined)
    },
  }
}
