/**
 * The frames the join cache reads and writes (docs/PROTOCOL.md, "Frame"): a fresh joiner's
 * SyncStep1, the same SyncStep1 with another state vector, and a Sync/Update carrying a state.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { documentNameOf, MessageType, SyncType } from '../../protocol/index.ts'

/**
 * What follows the address in a fresh joiner's SyncStep1: Sync, SyncStep1, and the state vector
 * as a one-byte array holding zero entries (`Y.encodeStateVector` of an empty document).
 */
const FRESH_STEP1_TAIL = [MessageType.Sync, SyncType.Step1, 1, 0]

/** A fresh joiner's SyncStep1: where it was addressed (`name` or `name\0session`) and the document name. */
export interface FreshStep1 {
  address: string
  documentName: string
}

/**
 * `frame` when it is exactly `[address][Sync][SyncStep1][empty state vector]` (nothing after it),
 * otherwise undefined. Never throws: a malformed frame is left to Hocuspocus.
 */
export function readFreshStep1(frame: Uint8Array): FreshStep1 | undefined {
  try {
    // Every incoming frame passes here: look at the bytes after the address before decoding it.
    const decoder = decoding.createDecoder(frame)
    const addressBytes = decoding.readVarUint(decoder)
    const rest = decoder.pos + addressBytes
    if (frame.length !== rest + FRESH_STEP1_TAIL.length) return undefined
    if (FRESH_STEP1_TAIL.some((byte, i) => frame[rest + i] !== byte)) return undefined
    const address = decoding.readVarString(decoding.createDecoder(frame))
    return { address, documentName: documentNameOf(address) }
  } catch {
    return undefined
  }
}

/** `[address][Sync][SyncStep1][stateVector]`, in a buffer of its own. */
export function step1Frame(address: string, stateVector: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, address)
  encoding.writeVarUint(encoder, MessageType.Sync)
  encoding.writeVarUint(encoder, SyncType.Step1)
  encoding.writeVarUint8Array(encoder, stateVector)
  return encoding.toUint8Array(encoder)
}

/**
 * `[address][Sync][Update][update]`: what the server sends for every change of a document. One
 * copy of `update`, into a buffer of the frame's exact size.
 */
export function updateFrame(address: string, update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, address)
  encoding.writeVarUint(encoder, MessageType.Sync)
  encoding.writeVarUint(encoder, SyncType.Update)
  encoding.writeVarUint(encoder, update.byteLength)
  const header = encoding.toUint8Array(encoder)
  const frame = new Uint8Array(header.byteLength + update.byteLength)
  frame.set(header)
  frame.set(update, header.byteLength)
  return frame
}

/**
 * Turns a state vector, in place, into the empty one: its first byte, the entry count, becomes 0
 * and Yjs reads no entry after it. Hocuspocus then answers the whole document, as for a fresh joiner.
 */
export function emptyStateVectorInPlace(stateVector: Uint8Array): void {
  if (stateVector.length > 0) stateVector[0] = 0
}
