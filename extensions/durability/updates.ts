/** Small Yjs helpers for the durability path. */
import * as Y from 'yjs'

/**
 * Byte length of an encoded update that holds no structs and an empty delete set: `[0, 0]`.
 * Anything this size or smaller changes nothing.
 */
export const EMPTY_UPDATE_BYTES = 2

export function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength <= EMPTY_UPDATE_BYTES
}

/**
 * The part of `update` the document has not integrated. Whatever the in-memory document holds
 * was already stored (every write path appends first), so storing only the difference loses
 * nothing: structs still pending in the document are kept, as its state vector does not cover them.
 */
export function unseenPart(doc: Y.Doc, update: Uint8Array): Uint8Array {
  return Y.diffUpdate(update, Y.encodeStateVector(doc))
}

export function mergeUpdates(updates: Uint8Array[]): Uint8Array {
  return Y.mergeUpdates(updates)
}
