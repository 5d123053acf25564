/**
 * An incoming update, decoded and indexed against the document it is about to enter: which of
 * its structs are new, where each new struct's parent is (another new struct, a type already in
 * the document, or a root), and which existing structs its delete set removes. Nothing here
 * copies the document; existing structs are found with `Y.getItem` on its store.
 *
 * Every step is linear in the update (or n log n): the worst update the budget allows must cost
 * milliseconds, whatever the order of its structs.
 */
import * as Y from 'yjs'
import { decodeUpdateOnce, type DecodedUpdate } from '../documents/updates.ts'
import { MalformedUpdate, integrationOf, refuseOwnFuture } from './integration.ts'
import { mergeRanges, rangesIntersect, type Ranges } from './pending.ts'

export { pendingDeletionCovers, pendingOf } from './pending.ts'
export { MalformedUpdate }

/** A type an update writes into: a root (by name), a type in the document, or a new type in the update. */
export type TypeKey = string | Y.AbstractType<unknown> | Y.Item

export interface Placement {
  parent: TypeKey
  /** The map key, or null for an element of an array or a text. */
  key: string | null
}

/** A range of one client's clocks, `[clock, end)`. */
export interface DeletedRange {
  client: number
  clock: number
  end: number
}

/** Why an update cannot be checked: it refers to structs the document does not have. */
export class UnknownDependency extends Error {}

export class UpdateIndex {
  readonly doc: Y.Doc
  /** Items that will integrate when the update is applied (their dependencies are known), per client, by clock. */
  readonly fresh: Map<number, Y.Item[]>
  /** The same, in the order Yjs integrates them. */
  readonly freshItems: Y.Item[]
  /** Structs that will stay pending: they depend on structs neither the document nor the update has. */
  readonly deferred: Array<Y.Item | Y.GC>
  readonly gcs: Y.GC[]
  readonly skips: number
  readonly ds: DecodedUpdate['ds']
  /** The delete set as sorted, merged ranges per client. */
  readonly deletions = new Map<number, Ranges>()
  /** Clients the update carries structs for. */
  private readonly carried = new Set<number>()
  /** Per client, the clock up to which the document plus the integrating structs reach. */
  private readonly frontier: Map<number, number>
  private readonly placements = new Map<Y.Item, Placement>()
  /** Entries the update writes under each map-like parent, by key. */
  private readonly children = new Map<TypeKey, Map<string, Y.Item[]>>()
  /** `client:clock` of the origins of deferred items. */
  private readonly deferredOrigins = new Set<string>()

  constructor(doc: Y.Doc, update: Uint8Array) {
    this.doc = doc
    const decoded = decodeUpdateOnce(update)
    this.ds = decoded.ds
    for (const [client, items] of decoded.ds.clients) this.deletions.set(client, mergeRanges(items.map((d) => [d.clock, d.clock + d.len])))
    let skips = 0
    const structs: Array<Y.Item | Y.GC> = []
    for (const struct of decoded.structs) {
      if (struct instanceof Y.Skip) {
        skips++
        continue
      }
      const item = struct as Y.Item | Y.GC
      if (item instanceof Y.Item) refuseOwnFuture(item)
      this.carried.add(item.id.client)
      structs.push(item)
    }
    this.skips = skips
    const integration = integrationOf(doc, structs)
    this.fresh = integration.fresh
    this.freshItems = integration.freshItems
    this.gcs = integration.gcs
    this.deferred = integration.deferred
    this.frontier = integration.frontier
    for (const item of this.freshItems) {
      const placement = this.placementOf(item)
      if (placement.key !== null) {
        let byKey = this.children.get(placement.parent)
        if (!byKey) this.children.set(placement.parent, (byKey = new Map()))
        const list = byKey.get(placement.key) ?? []
        list.push(item)
        byKey.set(placement.key, list)
      }
    }
    for (const struct of this.deferred) {
      if (struct instanceof Y.Item && struct.origin) this.deferredOrigins.add(`${struct.origin.client}:${struct.origin.clock}`)
    }
  }

  /** The clock up to which a client's structs are known once this update applies. */
  reach(client: number): number {
    return this.frontier.get(client) ?? Y.getState(this.doc.store, client)
  }

  private known(id: Y.ID | null): boolean {
    return id === null || id.clock < this.reach(id.client)
  }

  /** What a deferred struct still waits for: the ids it needs that nobody has yet. */
  missingFor(struct: Y.Item | Y.GC): Y.ID[] {
    const missing: Y.ID[] = []
    if (struct.id.clock > this.reach(struct.id.client)) missing.push(Y.createID(struct.id.client, this.reach(struct.id.client)))
    if (struct instanceof Y.Item) {
      for (const id of [struct.origin, struct.rightOrigin, struct.parent instanceof Y.ID ? struct.parent : null]) {
        if (id && !this.known(id)) missing.push(id)
      }
    }
    return missing
  }

  /** Client ids whose structs integrate when the update is applied. */
  integratingClients(): Set<number> {
    const clients = new Set<number>(this.fresh.keys())
    for (const gc of this.gcs) clients.add(gc.id.client)
    return clients
  }

  /** Client ids whose structs the update carries (integrating or deferred). */
  clients(): ReadonlySet<number> {
    return this.carried
  }

  /** The update's own item covering `id`, if any (binary search: a client's new items are in clock order). */
  freshAt(id: Y.ID): Y.Item | undefined {
    const list = this.fresh.get(id.client)
    if (!list) return undefined
    let low = 0
    let high = list.length - 1
    while (low <= high) {
      const mid = (low + high) >> 1
      const item = list[mid]!
      if (id.clock < item.id.clock) high = mid - 1
      else if (id.clock >= item.id.clock + item.length) low = mid + 1
      else return item
    }
    return undefined
  }

  /** The document's item covering `id`; throws {@link UnknownDependency} when there is none. */
  existingAt(id: Y.ID): Y.Item {
    if (id.clock >= Y.getState(this.doc.store, id.client)) throw new UnknownDependency(`unknown struct ${id.client}:${id.clock}`)
    const struct = Y.getItem(this.doc.store, id) as Y.Item | Y.GC
    if (!(struct instanceof Y.Item)) throw new UnknownDependency(`struct ${id.client}:${id.clock} was garbage-collected`)
    return struct
  }

  /** The type an item holds, as a key: the new item itself, or the document's integrated type. */
  private typeHeldBy(id: Y.ID): TypeKey {
    const fresh = this.freshAt(id)
    if (fresh) {
      if (!(fresh.content instanceof Y.ContentType)) throw new UnknownDependency('a parent that holds no type')
      return fresh
    }
    const existing = this.existingAt(id)
    if (!(existing.content instanceof Y.ContentType)) throw new UnknownDependency('a parent that holds no type')
    return normalize(existing.content.type)
  }

  /**
   * Where a new item goes: its parent type and map key, resolved through its origins when not
   * explicit (iteratively: a chain of new items that each name the one before as their origin is
   * resolved once, not once per item).
   */
  placementOf(item: Y.Item): Placement {
    const chain: Y.Item[] = []
    let current = item
    let placement = this.placements.get(current)
    while (!placement) {
      const parent: unknown = current.parent
      if (typeof parent === 'string') placement = { parent, key: current.parentSub }
      else if (parent instanceof Y.ID) placement = { parent: this.typeHeldBy(parent), key: current.parentSub }
      else {
        const neighbour = current.origin ?? current.rightOrigin
        if (!neighbour) throw new UnknownDependency('an item with neither parent nor origin')
        const fresh = this.freshAt(neighbour)
        if (!fresh) {
          const existing = this.existingAt(neighbour)
          placement = { parent: normalize(existing.parent as Y.AbstractType<unknown>), key: existing.parentSub }
        } else {
          // A new neighbour integrates before the item, so the chain only goes back and ends.
          if (chain.length > this.freshItems.length) throw new MalformedUpdate('a cycle of origins')
          chain.push(current)
          current = fresh
          placement = this.placements.get(current)
          continue
        }
      }
      this.placements.set(current, placement)
    }
    for (const link of chain) this.placements.set(link, placement)
    return placement
  }

  /** New entries the update writes under `parent` at `key`, in clock order. */
  entries(parent: TypeKey, key: string): Y.Item[] {
    return this.children.get(parent)?.get(key) ?? []
  }

  /** Keys the update writes under `parent`. */
  keysWritten(parent: TypeKey): string[] {
    return [...(this.children.get(parent)?.keys() ?? [])]
  }

  /**
   * The largest number of new entries of one map key that share an origin (concurrent writes of
   * the key), with the key, when it passes `limit`. Yjs orders each such entry against all the
   * others already integrated, and one without an origin walks the key's whole history first.
   */
  concurrentKeyWrites(limit: number): string | null {
    for (const [, byKey] of this.children) {
      for (const [key, items] of byKey) {
        if (items.length <= limit) continue
        // Per origin client, per origin clock (-1: no origin).
        const counts = new Map<number, Map<number, number>>()
        for (const item of items) {
          const client = item.origin?.client ?? -1
          let byClock = counts.get(client)
          if (!byClock) counts.set(client, (byClock = new Map()))
          const clock = item.origin?.clock ?? -1
          const count = (byClock.get(clock) ?? 0) + 1
          if (count > limit) return key
          byClock.set(clock, count)
        }
      }
    }
    return null
  }

  /**
   * Calls `visit` for every item of the document the delete set removes (and is not yet deleted).
   * Ranges past what is known stay pending in Yjs; they are returned for the caller to judge.
   * Ranges are merged first, so each struct of the document is visited at most once.
   */
  forEachDeletedExisting(visit: (item: Y.Item, deletedLength: number) => void): DeletedRange[] {
    const unknown: DeletedRange[] = []
    for (const [client, ranges] of this.deletions) {
      const state = Y.getState(this.doc.store, client)
      const structs = this.doc.store.clients.get(client) ?? []
      for (const [clock, end] of ranges) {
        if (end > this.reach(client)) unknown.push({ client, clock: Math.max(clock, this.reach(client)), end })
        if (clock >= state) continue
        for (let index = Y.findIndexSS(structs, clock); index < structs.length; index++) {
          const struct = structs[index]!
          if (struct.id.clock >= end) break
          if (!(struct instanceof Y.Item) || struct.deleted) continue
          const from = Math.max(struct.id.clock, clock)
          const to = Math.min(struct.id.clock + struct.length, end)
          visit(struct, to - from)
        }
      }
    }
    return unknown
  }

  /** The parts of the delete set past what is known once the update applies (Yjs keeps those deletions pending). */
  unknownDeletions(): DeletedRange[] {
    const unknown: DeletedRange[] = []
    for (const [client, ranges] of this.deletions) {
      const reach = this.reach(client)
      for (let i = ranges.length - 1; i >= 0; i--) {
        const [clock, end] = ranges[i]!
        if (end <= reach) break
        unknown.push({ client, clock: Math.max(clock, reach), end })
      }
    }
    return unknown
  }

  /** Whether a struct still waiting for its dependencies would replace `item` (a map entry written after it). */
  deferredReplaces(item: Y.Item): boolean {
    return this.deferredOrigins.has(`${item.id.client}:${item.id.clock + item.length - 1}`)
  }

  /** Whether the update's own delete set removes (part of) one of its new items. */
  deletesFresh(item: Y.Item): boolean {
    return rangesIntersect(this.deletions.get(item.id.client), item.id.clock, item.id.clock + item.length)
  }
}

/** Root types are keyed by name, so that a root the document has not created yet matches. */
export function normalize(type: Y.AbstractType<unknown>): TypeKey {
  return type._item === null ? Y.findRootTypeKey(type) : type
}

/** Structs the document holds (one object each in memory, deleted ones included). */
export function documentStructs(doc: Y.Doc): number {
  let count = 0
  for (const structs of doc.store.clients.values()) count += structs.length
  return count
}
