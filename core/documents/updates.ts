/** Small Yjs helpers for the durability path. */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

/**
 * Byte length of an encoded update that holds no structs and an empty delete set: `[0, 0]`.
 * Anything this size or smaller changes nothing.
 */
export const EMPTY_UPDATE_BYTES = 2

export function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength <= EMPTY_UPDATE_BYTES
}

type DeleteRanges = Map<number, Array<{ clock: number; len: number }>>

/** A delete set encoded as Yjs v1 writes it (`writeDeleteSet`: clients in descending order). */
function encodeDeleteSet(clients: DeleteRanges): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, clients.size)
  for (const [client, ranges] of [...clients.entries()].sort((a, b) => b[0] - a[0])) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, ranges.length)
    for (const range of ranges) {
      encoding.writeVarUint(encoder, range.clock)
      encoding.writeVarUint(encoder, range.len)
    }
  }
  return encoding.toUint8Array(encoder)
}

/** The parts of `[clock, clock + len)` that the document has not deleted yet (or does not have at all). */
function notYetDeleted(doc: Y.Doc, client: number, clock: number, len: number): Array<{ clock: number; len: number }> {
  const end = clock + len
  const structs = doc.store.clients.get(client)
  const known = structs ? Y.getState(doc.store, client) : 0
  const kept: Array<{ clock: number; len: number }> = []
  const keep = (from: number, to: number) => {
    const last = kept.at(-1)
    if (last && last.clock + last.len === from) last.len += to - from
    else kept.push({ clock: from, len: to - from })
  }
  if (structs && clock < known) {
    for (let i = Y.findIndexSS(structs, clock); i < structs.length; i++) {
      const struct = structs[i]
      if (!struct || struct.id.clock >= end) break
      if (!struct.deleted) keep(Math.max(struct.id.clock, clock), Math.min(struct.id.clock + struct.length, end))
    }
  }
  // Clocks the document does not have yet: the deletion stays pending there, so it is new.
  if (end > known) keep(Math.max(known, clock), end)
  return kept
}

/** Clock ranges `[from, to)` per client. */
type Ranges = Map<number, Array<[number, number]>>

function addRange(ranges: Ranges, client: number, from: number, to: number): void {
  const list = ranges.get(client) ?? []
  list.push([from, to])
  ranges.set(client, list)
}

function covers(ranges: Ranges, client: number, from: number, to: number): boolean {
  return (ranges.get(client) ?? []).some(([start, end]) => start <= from && to <= end)
}

/** What the document holds pending (stored already, waiting for structs it lacks): structs and deletions. */
function pendingRanges(doc: Y.Doc): { structs: Ranges; deletions: Ranges } {
  const structs: Ranges = new Map()
  const deletions: Ranges = new Map()
  const pending = doc.store.pendingStructs
  if (pending) {
    for (const struct of Y.decodeUpdateV2(pending.update).structs) {
      if (!(struct instanceof Y.Skip)) addRange(structs, struct.id.client, struct.id.clock, struct.id.clock + struct.length)
    }
  }
  if (doc.store.pendingDs) {
    for (const [client, items] of Y.decodeUpdateV2(doc.store.pendingDs).ds.clients) {
      for (const item of items) addRange(deletions, client, item.clock, item.clock + item.len)
    }
  }
  return { structs, deletions }
}

/**
 * The part of `update` the document has not integrated: the structs its state vector does not
 * cover, and the deletions of structs it has not deleted yet. Whatever the in-memory document holds
 * was already stored (every write path appends first), so storing only the difference loses
 * nothing. That includes what it holds pending: structs that wait for others, and deletions of
 * structs it does not have; an update that brings only those again is not new either. An update
 * the document already has in full gives an empty update ({@link isEmptyUpdate}). When only part
 * of the structs is new, all of the update's structs past the state vector are kept (a superset).
 */
export function unseenPart(doc: Y.Doc, update: Uint8Array): Uint8Array {
  const { diff, decoded } = wholeOrDiff(doc, update)
  if (decoded === null) return diff
  const { structs, ds } = decoded
  const pending = doc.store.pendingStructs || doc.store.pendingDs ? pendingRanges(doc) : null
  const structsPending =
    pending !== null &&
    structs.length > 0 &&
    structs.every((struct) => struct instanceof Y.Skip || covers(pending.structs, struct.id.client, struct.id.clock, struct.id.clock + struct.length))
  if (ds.clients.size === 0 && !structsPending) return diff
  const original = encodeDeleteSet(ds.clients)
  const structsEnd = diff.byteLength - original.byteLength
  // The delete set is the update's tail; if it is not where Yjs writes it, keep the whole diff (safe).
  if (structsEnd < 0 || !endsWith(diff, original)) return diff
  const filtered: DeleteRanges = new Map()
  let removed = structsPending
  const total = (ranges: Array<{ len: number }>) => ranges.reduce((sum, range) => sum + range.len, 0)
  for (const [client, ranges] of ds.clients) {
    const kept = ranges
      .flatMap((range) => notYetDeleted(doc, client, range.clock, range.len))
      .filter((range) => !pending || !covers(pending.deletions, client, range.clock, range.clock + range.len))
    if (total(kept) < total(ranges)) removed = true
    if (kept.length > 0) filtered.set(client, kept)
  }
  if (!removed) return diff
  const deletions = encodeDeleteSet(filtered)
  // No structs left: a struct section with no clients is the single byte 0.
  const structsPart = structsPending ? new Uint8Array([0]) : diff.subarray(0, structsEnd)
  const result = new Uint8Array(structsPart.byteLength + deletions.byteLength)
  result.set(structsPart, 0)
  result.set(deletions, structsPart.byteLength)
  return result
}

export type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>

/** Decoded updates, by the bytes they were decoded from (read only: nothing mutates them). */
const decodedUpdates = new WeakMap<Uint8Array, DecodedUpdate>()

/**
 * `Y.decodeUpdate`, once per update buffer: the unseen part of a live edit is the payload itself,
 * and the write guard (core/guard/update-index.ts) reads the same structs. The result is shared;
 * callers only read it.
 */
export function decodeUpdateOnce(update: Uint8Array): DecodedUpdate {
  let decoded = decodedUpdates.get(update)
  if (!decoded) {
    decoded = Y.decodeUpdate(update)
    decodedUpdates.set(update, decoded)
  }
  return decoded
}

/**
 * The update itself when every struct it carries starts at or past the document's state (the
 * common case: a client's fresh edit), which `Y.diffUpdate` would hand back unchanged; otherwise
 * the diff against the state vector. Decoded, unless the diff is empty.
 */
function wholeOrDiff(doc: Y.Doc, update: Uint8Array): { diff: Uint8Array; decoded: DecodedUpdate | null } {
  const whole = decodeUpdateOnce(update)
  const allNew =
    whole.structs.length > 0 && whole.structs.every((struct) => !(struct instanceof Y.Skip) && struct.id.clock >= Y.getState(doc.store, struct.id.client))
  if (allNew) return { diff: update, decoded: whole }
  const diff = Y.diffUpdate(update, Y.encodeStateVector(doc))
  return { diff, decoded: isEmptyUpdate(diff) ? null : decodeUpdateOnce(diff) }
}

function endsWith(bytes: Uint8Array, tail: Uint8Array): boolean {
  const offset = bytes.byteLength - tail.byteLength
  for (let i = 0; i < tail.byteLength; i++) if (bytes[offset + i] !== tail[i]) return false
  return true
}

/** Unseen parts already computed, by the message payload they were computed from. */
const computed = new WeakMap<Uint8Array, { doc: Y.Doc; part: Uint8Array }>()

/**
 * {@link unseenPart} of a message payload, computed once per payload and document and shared by
 * every `beforeSync` hook that needs it (the write guard checks it, durability stores it).
 * Hocuspocus hands the same payload object to each hook of one message.
 *
 * A later caller may get the part as it was when the first caller asked. A document's state only
 * grows, so that part holds everything the document still lacks (and perhaps some it has gained
 * since): storing it loses nothing. The guard runs first (priority), so it checks a fresh result.
 */
export function sharedUnseenPart(doc: Y.Doc, payload: Uint8Array): Uint8Array {
  const known = computed.get(payload)
  if (known && known.doc === doc) return known.part
  const part = unseenPart(doc, payload)
  computed.set(payload, { doc, part })
  return part
}

export function mergeUpdates(updates: Uint8Array[]): Uint8Array {
  return Y.mergeUpdates(updates)
}
