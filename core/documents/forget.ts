/**
 * Forgetting clocks: an update without the structs and deletions of some client ids from a
 * given clock on. The write guard refuses a client id after a refused struct broke its clock
 * chain; whatever it had stored pending past its state can then never integrate, and storage
 * forgets it (compaction without it, and no append of it again).
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

/** Per client id, the first clock forgotten. */
export type ForgottenClocks = ReadonlyMap<number, number>

type Struct = Y.Item | Y.GC | Y.Skip

/**
 * `update` (V1) without the structs of the given client ids at or past their clock, nor the
 * deletions of those clocks. Unchanged (the same bytes) when it holds none of them.
 */
export function withoutClocks(update: Uint8Array, from: ForgottenClocks): Uint8Array {
  if (from.size === 0) return update
  const { structs, ds } = Y.decodeUpdate(update)
  const forgotten = (client: number, clock: number) => clock >= (from.get(client) ?? Number.POSITIVE_INFINITY)
  const touchesStructs = structs.some((struct) => !(struct instanceof Y.Skip) && forgotten(struct.id.client, struct.id.clock + struct.length - 1))
  const touchesDeletions = [...ds.clients].some(([client, ranges]) => ranges.some((range) => forgotten(client, range.clock + range.len - 1)))
  if (!touchesStructs && !touchesDeletions) return update
  // Decoded structs come client by client, each client's in clock order.
  const sections: Array<{ client: number; structs: Struct[] }> = []
  for (const struct of structs) {
    const last = sections.at(-1)
    if (last?.client === struct.id.client) last.structs.push(struct)
    else sections.push({ client: struct.id.client, structs: [struct] })
  }
  const encoder = new Y.UpdateEncoderV1()
  const kept = sections
    .map(({ client, structs: list }) => ({ client, structs: keptOf(list, from.get(client)) }))
    .filter((section) => section.structs.length > 0)
  encoding.writeVarUint(encoder.restEncoder, kept.length)
  for (const { client, structs: list } of kept) {
    encoding.writeVarUint(encoder.restEncoder, list.length)
    encoder.writeClient(client)
    encoding.writeVarUint(encoder.restEncoder, list[0]!.id.clock)
    for (const struct of list) struct.write(encoder, 0)
  }
  const deletions: Array<[number, Array<[number, number]>]> = []
  for (const [client, ranges] of ds.clients) {
    const end = from.get(client) ?? Number.POSITIVE_INFINITY
    const clipped = ranges.filter((range) => range.clock < end).map((range): [number, number] => [range.clock, Math.min(range.len, end - range.clock)])
    if (clipped.length > 0) deletions.push([client, clipped])
  }
  encoding.writeVarUint(encoder.restEncoder, deletions.length)
  for (const [client, ranges] of deletions) {
    encoding.writeVarUint(encoder.restEncoder, client)
    encoding.writeVarUint(encoder.restEncoder, ranges.length)
    for (const [clock, len] of ranges) {
      encoding.writeVarUint(encoder.restEncoder, clock)
      encoding.writeVarUint(encoder.restEncoder, len)
    }
  }
  return encoder.toUint8Array()
}

/**
 * A client's structs before `end`: a garbage-collected range or skip across it is cut there; an
 * item across it cannot be cut here and is kept whole (it does not happen: what is forgotten
 * starts after the client's integrated structs, which never merge with pending items); trailing
 * skips are dropped.
 */
function keptOf(structs: Struct[], end: number | undefined): Struct[] {
  if (end === undefined) return structs
  const kept: Struct[] = []
  for (const struct of structs) {
    if (struct.id.clock >= end) break
    if (struct.id.clock + struct.length > end && !(struct instanceof Y.Item)) {
      kept.push(struct instanceof Y.GC ? new Y.GC(struct.id, end - struct.id.clock) : new Y.Skip(struct.id, end - struct.id.clock))
    } else kept.push(struct)
  }
  while (kept.at(-1) instanceof Y.Skip) kept.pop()
  return kept
}
