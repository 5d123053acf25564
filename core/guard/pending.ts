/**
 * What a document holds pending: structs that wait for structs it lacks, and deletions of structs
 * it does not have. Yjs stores them with the document and integrates them on their own when the
 * missing structs arrive, so the guard must know, for each, whose they are: every pending struct
 * is under a client id bound to the user who sent it, waits only for that user's own structs,
 * and is checked (as that user) with the update that lets it integrate.
 *
 * Decoding the pending state is cached per document until Yjs replaces it.
 */
import * as encoding from 'lib0/encoding'
import { equalityDeep } from 'lib0/function'
import * as Y from 'yjs'

/** Sorted, merged clock ranges `[start, end)`. */
export type Ranges = Array<[number, number]>

interface PendingView {
  structsUpdate: Uint8Array | null
  deletionsUpdate: Uint8Array | null
  /** Pending structs per client, by clock. */
  structs: Map<number, Array<Y.Item | Y.GC>>
  /** Pending deletions per client. */
  deletions: Map<number, Ranges>
}

const views = new WeakMap<Y.Doc, PendingView>()

/** Sorts and merges ranges (overlapping or touching ones become one). */
export function mergeRanges(ranges: Ranges): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0])
  const merged: Ranges = []
  for (const [start, end] of sorted) {
    const last = merged.at(-1)
    if (last && start <= last[1]) last[1] = Math.max(last[1], end)
    else merged.push([start, end])
  }
  return merged
}

/** Whether merged ranges cover `[start, end)` entirely. */
export function rangesCover(ranges: Ranges | undefined, start: number, end: number): boolean {
  if (!ranges) return false
  const index = lastStartingAtOrBefore(ranges, start)
  const range = index >= 0 ? ranges[index] : undefined
  return range !== undefined && range[1] >= end
}

/** Whether merged ranges intersect `[start, end)`. */
export function rangesIntersect(ranges: Ranges | undefined, start: number, end: number): boolean {
  if (!ranges) return false
  const index = lastStartingAtOrBefore(ranges, end - 1)
  const range = index >= 0 ? ranges[index] : undefined
  return range !== undefined && range[1] > start
}

function lastStartingAtOrBefore(ranges: Ranges, clock: number): number {
  let low = 0
  let high = ranges.length - 1
  let found = -1
  while (low <= high) {
    const mid = (low + high) >> 1
    if (ranges[mid]![0] <= clock) {
      found = mid
      low = mid + 1
    } else high = mid - 1
  }
  return found
}

/** A delete set as merged ranges per client. */
export function rangesOf(ds: { clients: Map<number, Array<{ clock: number; len: number }>> }): Map<number, Ranges> {
  const result = new Map<number, Ranges>()
  for (const [client, items] of ds.clients) {
    result.set(client, mergeRanges(items.map((item) => [item.clock, item.clock + item.len])))
  }
  return result
}

function viewOf(doc: Y.Doc): PendingView {
  const structsUpdate = doc.store.pendingStructs?.update ?? null
  const deletionsUpdate = doc.store.pendingDs
  const cached = views.get(doc)
  if (cached && cached.structsUpdate === structsUpdate && cached.deletionsUpdate === deletionsUpdate) return cached
  const structs = new Map<number, Array<Y.Item | Y.GC>>()
  if (structsUpdate) {
    for (const struct of Y.decodeUpdateV2(structsUpdate).structs) {
      if (struct instanceof Y.Skip) continue
      const list = structs.get(struct.id.client) ?? []
      list.push(struct as Y.Item | Y.GC)
      structs.set(struct.id.client, list)
    }
    for (const list of structs.values()) list.sort((a, b) => a.id.clock - b.id.clock)
  }
  const deletions = deletionsUpdate ? rangesOf(Y.decodeUpdateV2(deletionsUpdate).ds) : new Map<number, Ranges>()
  const view = { structsUpdate, deletionsUpdate, structs, deletions }
  views.set(doc, view)
  return view
}

/** Structs per client id, by clock. */
export type StructLists = ReadonlyMap<number, ReadonlyArray<Y.Item | Y.GC>>

/** What the document holds pending: structs per client id, by clock, and deletions per client id. */
export function pendingView(doc: Y.Doc): { structs: StructLists; deletions: ReadonlyMap<number, Ranges> } {
  return viewOf(doc)
}

/** Bytes the document holds pending (as Yjs keeps them: structs and deletions, V2-encoded). */
export function pendingBytes(doc: Y.Doc): number {
  return (doc.store.pendingStructs?.update.byteLength ?? 0) + (doc.store.pendingDs?.byteLength ?? 0)
}

/**
 * The structs and deletions the document holds pending under the given user's client ids, as one
 * V1 update, or null. Every other client's pending state is left out: it waits only for its own
 * user's structs, so it cannot integrate with this user's update, and is checked as its own user.
 */
export function pendingOf(doc: Y.Doc, isOwn: (client: number) => boolean): Uint8Array | null {
  const view = viewOf(doc)
  const parts: Uint8Array[] = []
  const others = new Map<number, number>()
  let own = false
  for (const client of view.structs.keys()) {
    if (isOwn(client)) own = true
    else others.set(client, Number.MAX_SAFE_INTEGER)
  }
  if (own && view.structsUpdate) {
    const structs = Y.convertUpdateFormatV2ToV1(view.structsUpdate)
    parts.push(others.size > 0 ? Y.diffUpdate(structs, Y.encodeStateVector(others)) : structs)
  }
  const deletions = [...view.deletions].filter(([client]) => isOwn(client))
  if (deletions.length > 0) parts.push(deletionsUpdate(deletions))
  if (parts.length === 0) return null
  return parts.length === 1 ? parts[0]! : Y.mergeUpdates(parts)
}

/** A V1 update with no structs and the given deletions. */
export function deletionsUpdate(deletions: Array<[number, Ranges]>): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarUint(encoder, deletions.length)
  for (const [client, ranges] of deletions) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, ranges.length)
    for (const [start, end] of ranges) {
      encoding.writeVarUint(encoder, start)
      encoding.writeVarUint(encoder, end - start)
    }
  }
  return encoding.toUint8Array(encoder)
}

/** Whether the document already holds a pending deletion of the whole range. */
export function pendingDeletionCovers(doc: Y.Doc, range: { client: number; clock: number; end: number }): boolean {
  return rangesCover(viewOf(doc).deletions.get(range.client), range.clock, range.end)
}

/**
 * Whether the document already holds exactly this struct pending (the same clocks, origins,
 * parent and content, or a slice of a pending struct that is). Every client's sync step 2 sends
 * back what the server holds pending, under the client ids of whoever wrote it; a struct that
 * differs in anything would replace part of someone else's pending struct when Yjs merges them.
 */
export function holdsPending(doc: Y.Doc, struct: Y.Item | Y.GC): boolean {
  return heldIn(viewOf(doc).structs, struct)
}

/** Whether the lists hold exactly this struct (or a struct it is a slice of): see {@link holdsPending}. */
export function heldIn(lists: StructLists, struct: Y.Item | Y.GC): boolean {
  const list = lists.get(struct.id.client)
  if (!list) return false
  const clock = struct.id.clock
  let low = 0
  let high = list.length - 1
  let found: Y.Item | Y.GC | undefined
  while (low <= high) {
    const mid = (low + high) >> 1
    const candidate = list[mid]!
    if (candidate.id.clock > clock) high = mid - 1
    else if (candidate.id.clock + candidate.length <= clock) low = mid + 1
    else {
      found = candidate
      break
    }
  }
  if (!found) return false
  const offset = clock - found.id.clock
  if (offset + struct.length > found.length) return false
  if (found instanceof Y.GC || struct instanceof Y.GC) return found instanceof Y.GC && struct instanceof Y.GC
  const origin = offset === 0 ? found.origin : Y.createID(found.id.client, found.id.clock + offset - 1)
  if (!sameId(origin, struct.origin) || !sameId(found.rightOrigin, struct.rightOrigin)) return false
  if (struct.origin === null && struct.rightOrigin === null) {
    if (!sameParent(found.parent, struct.parent) || found.parentSub !== struct.parentSub) return false
  }
  return sameContent(found.content, offset, struct.content)
}

function sameId(a: Y.ID | null, b: Y.ID | null): boolean {
  return a === b || (a !== null && b !== null && a.client === b.client && a.clock === b.clock)
}

function sameParent(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b
  if (a instanceof Y.ID && b instanceof Y.ID) return sameId(a, b)
  return a === b
}

function sameContent(held: Y.Item['content'], offset: number, sent: Y.Item['content']): boolean {
  const length = sent.getLength()
  if (held.constructor !== sent.constructor) return false
  if (held instanceof Y.ContentString && sent instanceof Y.ContentString) return held.str.slice(offset, offset + length) === sent.str
  if (held instanceof Y.ContentDeleted) return true
  if (held instanceof Y.ContentType && sent instanceof Y.ContentType) {
    const name = (type: unknown) => (type instanceof Y.XmlHook ? type.hookName : type instanceof Y.XmlElement ? type.nodeName : null)
    return offset === 0 && held.type.constructor === sent.type.constructor && name(held.type) === name(sent.type)
  }
  if (held instanceof Y.ContentFormat && sent instanceof Y.ContentFormat) return held.key === sent.key && equalityDeep(held.value, sent.value)
  if (held instanceof Y.ContentDoc && sent instanceof Y.ContentDoc) return held.doc?.guid === sent.doc?.guid && equalityDeep(held.opts, sent.opts)
  return equalityDeep(held.getContent().slice(offset, offset + length), sent.getContent())
}
