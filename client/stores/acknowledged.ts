/**
 * What "pending" means after a restart: the stored updates that hold a change the server has not
 * acknowledged. The session saves the server's acknowledged state vector whenever every local
 * change is acknowledged; an update counts when one of its clocks lies beyond that vector.
 */
import * as Y from 'yjs'

/**
 * How many of `updates` write a clock beyond `acknowledged` (a Yjs state vector; `null`: nothing
 * acknowledged). An update that only deletes writes no clock and is not counted; updates merged
 * by a compaction count once.
 */
export function countUnacknowledged(updates: readonly Uint8Array[], acknowledged: Uint8Array | null): number {
  const vector = acknowledged ? Y.decodeStateVector(acknowledged) : new Map<number, number>()
  let count = 0
  for (const update of updates) {
    const { to } = Y.parseUpdateMeta(update)
    for (const [client, clock] of to) {
      if (clock > (vector.get(client) ?? 0)) {
        count++
        break
      }
    }
  }
  return count
}
