/**
 * The clocks of an awareness message, read from the raw frame in `beforeHandleMessage`.
 * `beforeHandleAwareness` receives the states without their clocks, and a provider may send an
 * older state after a newer one (its queued messages go out after those it sends on connect):
 * the coalescer needs the clocks to keep the newest.
 */
import * as decoding from 'lib0/decoding'

/** Hocuspocus message type of awareness. */
const AWARENESS = 1

/** Client id → clock of an awareness frame; null for any other frame (or an undecodable one). */
export function awarenessClocks(frame: Uint8Array): Map<number, number> | null {
  try {
    const decoder = decoding.createDecoder(frame)
    decoding.readVarString(decoder)
    if (decoding.readVarUint(decoder) !== AWARENESS) return null
    const update = decoding.createDecoder(decoding.readVarUint8Array(decoder))
    const clocks = new Map<number, number>()
    const count = decoding.readVarUint(update)
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(update)
      clocks.set(clientId, decoding.readVarUint(update))
      // The state: a varString, skipped without decoding it.
      decoding.readVarUint8Array(update)
    }
    return clocks
  } catch {
    return null
  }
}
