/**
 * The work budget of one update, measured on its bytes before anything is decoded into objects:
 * how many structs, map and array entries, client ids and delete ranges it carries. Yjs and the
 * guard both spend time per struct and per range, and the guard about as much again per map entry
 * or array element (its place, key and value are checked; a text run costs the same however long),
 * so structs are counted with each entry counting twice. An update over budget is refused before
 * either spends that time (`too_large`, naming the budget). The scan stops as soon as a budget is exceeded,
 * so its own cost is bounded by the budget, not by the update's size.
 *
 * It also refuses what no Yjs encoder writes and what Yjs would apply differently from how the
 * guard reads it: a client id in two sections (Yjs keeps only the last one), and delete ranges of
 * a client out of order or overlapping (Yjs walks the document once per range).
 */
import * as decoding from 'lib0/decoding'
import * as limits from './limits.ts'
import { err, ok, type Result } from '../../protocol/result.ts'

export interface UpdateBudget {
  /** Structs, each map entry or array element counting as one more (the guard's work is about linear in this). */
  structs: number
  entries: number
  clients: number
  deleteRanges: number
}

export const DEFAULT_BUDGET: UpdateBudget = {
  structs: limits.MAX_UPDATE_STRUCTS,
  entries: limits.MAX_UPDATE_ENTRIES,
  clients: limits.MAX_UPDATE_CLIENTS,
  deleteRanges: limits.MAX_UPDATE_DELETE_RANGES,
}

/** What the scan found: the client ids that carry structs (all of them when it finished). */
export interface UpdateShape {
  structs: number
  entries: number
  deleteRanges: number
  clients: number[]
}

/** Why a scan stopped: over the budget, or unreadable. */
export interface ScanRefusal {
  overBudget: boolean
  reason: string
  clients: number[]
}

export type ScanResult = Result<UpdateShape, ScanRefusal>

class Stop extends Error {
  readonly overBudget: boolean
  constructor(reason: string, overBudget: boolean) {
    super(reason)
    this.overBudget = overBudget
  }
}

const skipBytes = (decoder: decoding.Decoder) => void decoding.readVarUint8Array(decoder)
const skipId = (decoder: decoding.Decoder) => {
  decoding.readVarUint(decoder)
  decoding.readVarUint(decoder)
}

/** Content reference numbers (the low five bits of a struct's info byte), as Yjs writes them. */
const GC = 0
const SKIP = 10

/** Reads past one item's content; returns how many map or array entries it adds (0 for text). */
function skipContent(decoder: decoding.Decoder, ref: number): number {
  switch (ref) {
    case 1: // deleted
      decoding.readVarUint(decoder)
      return 0
    case 2: {
      // JSON: a count, then that many strings
      const length = decoding.readVarUint(decoder)
      for (let i = 0; i < length; i++) skipBytes(decoder)
      return length
    }
    case 3: // binary
    case 5: // embed
      skipBytes(decoder)
      return 1
    case 4: // string
      skipBytes(decoder)
      return 0
    case 6: // format: key and value
      skipBytes(decoder)
      skipBytes(decoder)
      return 0
    case 7: {
      // a nested type; XML elements and hooks carry a name
      const typeRef = decoding.readVarUint(decoder)
      if (typeRef === 3 || typeRef === 5) skipBytes(decoder)
      else if (typeRef > 6) throw new Stop(`unknown type ${typeRef}`, false)
      return 1
    }
    case 8: {
      // any: a count, then that many values
      const length = decoding.readVarUint(decoder)
      for (let i = 0; i < length; i++) decoding.readAny(decoder)
      return length
    }
    case 9: // a subdocument: guid and options
      skipBytes(decoder)
      decoding.readAny(decoder)
      return 1
    default:
      throw new Stop(`unknown content ${ref}`, false)
  }
}

/**
 * Scans a V1 update against a budget. `extraRanges` raises the delete-range budget (a document's
 * own delete set comes back in every client's sync step 2, so the budget grows with the document).
 */
export function scanUpdate(update: Uint8Array, budget: UpdateBudget = DEFAULT_BUDGET, extraRanges = 0): ScanResult {
  const decoder = decoding.createDecoder(update)
  const seen = new Set<number>()
  let structs = 0
  let entries = 0
  let deleteRanges = 0
  const over = (what: string, limit: number) => {
    throw new Stop(`an update may carry at most ${limit} ${what} (budget exceeded)`, true)
  }
  try {
    const sections = decoding.readVarUint(decoder)
    if (sections > budget.clients) over('client ids', budget.clients)
    for (let s = 0; s < sections; s++) {
      const count = decoding.readVarUint(decoder)
      const client = decoding.readVarUint(decoder)
      decoding.readVarUint(decoder) // first clock
      if (seen.has(client)) throw new Stop(`client id ${client} appears twice in the update`, false)
      seen.add(client)
      structs += count
      if (structs > budget.structs) over('structs', budget.structs)
      for (let i = 0; i < count; i++) {
        const info = decoding.readUint8(decoder)
        const ref = info & 0b11111
        if (ref === GC || ref === SKIP) {
          decoding.readVarUint(decoder)
          continue
        }
        const hasOrigin = (info & 0b1000_0000) !== 0
        const hasRightOrigin = (info & 0b0100_0000) !== 0
        if (hasOrigin) skipId(decoder)
        if (hasRightOrigin) skipId(decoder)
        if (!hasOrigin && !hasRightOrigin) {
          if (decoding.readVarUint(decoder) === 1) skipBytes(decoder)
          else skipId(decoder)
          if ((info & 0b0010_0000) !== 0) skipBytes(decoder)
        }
        entries += skipContent(decoder, ref)
        if (entries > budget.entries) over('map or array entries', budget.entries)
        if (structs + entries > budget.structs)
          throw new Stop(`an update may carry at most ${budget.structs} structs, a map entry or array element counting twice (budget exceeded)`, true)
      }
    }
    const rangeBudget = budget.deleteRanges + extraRanges
    const dsClients = decoding.readVarUint(decoder)
    const dsSeen = new Set<number>()
    for (let c = 0; c < dsClients; c++) {
      const client = decoding.readVarUint(decoder)
      if (dsSeen.has(client)) throw new Stop(`client id ${client} appears twice in the delete set`, false)
      dsSeen.add(client)
      const count = decoding.readVarUint(decoder)
      deleteRanges += count
      if (deleteRanges > rangeBudget) over('delete ranges', rangeBudget)
      let end = -1
      for (let r = 0; r < count; r++) {
        const clock = decoding.readVarUint(decoder)
        const length = decoding.readVarUint(decoder)
        if (clock <= end) throw new Stop(`the delete ranges of client id ${client} overlap or are out of order`, false)
        end = clock + length - 1
      }
    }
    return ok({ structs, entries, deleteRanges, clients: [...seen] })
  } catch (error) {
    if (error instanceof Stop) return err({ overBudget: error.overBudget, reason: error.message, clients: [...seen] })
    return err({
      overBudget: false,
      reason: `the update cannot be decoded: ${error instanceof Error ? error.message : String(error)}`,
      clients: [...seen],
    })
  }
}
