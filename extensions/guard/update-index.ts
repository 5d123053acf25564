/**
 * An incoming update, decoded and indexed against the document it is about to enter: which of
 * its structs are new, where each new struct's parent is (another new struct, a type already in
 * the document, or a root), and which existing structs its delete set removes. Nothing here
 * copies the document; existing structs are found with `Y.getItem` on its store.
 */
import * as Y from 'yjs'

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

type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>

export class UpdateIndex {
  readonly doc: Y.Doc
  /** Items that will integrate when the update is applied (their dependencies are known), per client. */
  readonly fresh = new Map<number, Y.Item[]>()
  readonly freshItems: Y.Item[] = []
  /** Structs that will stay pending: they depend on structs neither the document nor the update has. */
  readonly deferred: Array<Y.Item | Y.GC> = []
  readonly gcs: Y.GC[] = []
  readonly skips: number
  readonly ds: DecodedUpdate['ds']
  /** Clients the update carries structs for. */
  private readonly carried = new Set<number>()
  /** Per client, the clock up to which the document plus the integrating structs reach. */
  private readonly frontier = new Map<number, number>()
  private readonly placements = new Map<Y.Item, Placement>()
  /** Entries the update writes under each map-like parent, by key. */
  private readonly children = new Map<TypeKey, Map<string, Y.Item[]>>()

  constructor(doc: Y.Doc, update: Uint8Array) {
    this.doc = doc
    const decoded = Y.decodeUpdate(update)
    this.ds = decoded.ds
    let skips = 0
    const byClient = new Map<number, Array<Y.Item | Y.GC>>()
    for (const struct of decoded.structs) {
      if (struct instanceof Y.Skip) {
        skips++
        continue
      }
      const item = struct as Y.Item | Y.GC
      this.carried.add(item.id.client)
      const list = byClient.get(item.id.client) ?? []
      list.push(item)
      byClient.set(item.id.client, list)
    }
    this.skips = skips
    this.integrate(byClient)
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
  }

  /** The clock up to which a client's structs are known once this update applies. */
  reach(client: number): number {
    return this.frontier.get(client) ?? Y.getState(this.doc.store, client)
  }

  private known(id: Y.ID | null): boolean {
    return id === null || id.clock < this.reach(id.client)
  }

  /**
   * Which structs integrate, as Yjs decides it: a client's structs in clock order, each once the
   * ones before it and everything it points to (origin, right origin, parent) are known.
   */
  private integrate(byClient: Map<number, Array<Y.Item | Y.GC>>): void {
    const next = new Map<number, number>()
    for (const [client, list] of byClient) {
      list.sort((a, b) => a.id.clock - b.id.clock)
      next.set(client, 0)
    }
    for (let progressed = true; progressed; ) {
      progressed = false
      for (const [client, list] of byClient) {
        let index = next.get(client) ?? 0
        while (index < list.length) {
          const struct = list[index]!
          if (struct.id.clock > this.reach(client)) break
          if (struct instanceof Y.Item) {
            const parent = struct.parent instanceof Y.ID ? struct.parent : null
            if (!this.known(struct.origin) || !this.known(struct.rightOrigin) || !this.known(parent)) break
            const own = this.fresh.get(client) ?? []
            own.push(struct)
            this.fresh.set(client, own)
            this.freshItems.push(struct)
          } else {
            this.gcs.push(struct)
          }
          this.frontier.set(client, Math.max(this.reach(client), struct.id.clock + struct.length))
          index++
          progressed = true
        }
        next.set(client, index)
      }
    }
    for (const [client, list] of byClient) this.deferred.push(...list.slice(next.get(client) ?? 0))
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
  clients(): Set<number> {
    return new Set(this.carried)
  }

  /** The update's own item covering `id`, if any. */
  freshAt(id: Y.ID): Y.Item | undefined {
    const list = this.fresh.get(id.client)
    if (!list) return undefined
    for (const item of list) if (id.clock >= item.id.clock && id.clock < item.id.clock + item.length) return item
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

  /** Where a new item goes: its parent type and map key, resolved through its origins when not explicit. */
  placementOf(item: Y.Item): Placement {
    const known = this.placements.get(item)
    if (known) return known
    let placement: Placement
    const parent: unknown = item.parent
    if (typeof parent === 'string') {
      placement = { parent, key: item.parentSub }
    } else if (parent instanceof Y.ID) {
      placement = { parent: this.typeHeldBy(parent), key: item.parentSub }
    } else {
      const neighbour = item.origin ?? item.rightOrigin
      if (!neighbour) throw new UnknownDependency('an item with neither parent nor origin')
      const fresh = this.freshAt(neighbour)
      if (fresh) placement = this.placementOf(fresh)
      else {
        const existing = this.existingAt(neighbour)
        placement = { parent: normalize(existing.parent as Y.AbstractType<unknown>), key: existing.parentSub }
      }
    }
    this.placements.set(item, placement)
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
   * Calls `visit` for every item of the document the delete set removes (and is not yet deleted).
   * Ranges past what is known stay pending in Yjs; they are returned for the caller to judge.
   */
  forEachDeletedExisting(visit: (item: Y.Item, deletedLength: number) => void): DeletedRange[] {
    const unknown: DeletedRange[] = []
    for (const [client, ranges] of this.ds.clients) {
      const state = Y.getState(this.doc.store, client)
      const structs = this.doc.store.clients.get(client) ?? []
      for (const range of ranges) {
        const end = range.clock + range.len
        if (end > this.reach(client)) unknown.push({ client, clock: Math.max(range.clock, this.reach(client)), end })
        if (range.clock >= state) continue
        let index = Y.findIndexSS(structs, range.clock)
        for (; index < structs.length; index++) {
          const struct = structs[index]!
          if (struct.id.clock >= end) break
          if (!(struct instanceof Y.Item) || struct.deleted) continue
          const from = Math.max(struct.id.clock, range.clock)
          const to = Math.min(struct.id.clock + struct.length, end)
          visit(struct, to - from)
        }
      }
    }
    return unknown
  }

  /** Whether a struct still waiting for its dependencies would replace `item` (a map entry written after it). */
  deferredReplaces(item: Y.Item): boolean {
    const last = item.id.clock + item.length - 1
    return this.deferred.some((d) => d instanceof Y.Item && d.origin?.client === item.id.client && d.origin.clock === last)
  }

  /** Whether the update's own delete set removes (part of) one of its new items. */
  deletesFresh(item: Y.Item): boolean {
    const ranges = this.ds.clients.get(item.id.client)
    if (!ranges) return false
    const end = item.id.clock + item.length
    return ranges.some((r) => r.clock < end && r.clock + r.len > item.id.clock)
  }
}

/** Root types are keyed by name, so that a root the document has not created yet matches. */
export function normalize(type: Y.AbstractType<unknown>): TypeKey {
  return type._item === null ? Y.findRootTypeKey(type) : type
}

/**
 * The structs and deletions Yjs holds pending for the given clients, as one V1 update, or null.
 * They were stored but not checked when they arrived (their dependencies were missing); they are
 * checked with the update that lets them integrate.
 */
export function pendingOf(doc: Y.Doc, isOwn: (client: number) => boolean): Uint8Array | null {
  const parts: Uint8Array[] = []
  if (doc.store.pendingStructs) parts.push(Y.convertUpdateFormatV2ToV1(doc.store.pendingStructs.update))
  if (doc.store.pendingDs) parts.push(Y.convertUpdateFormatV2ToV1(doc.store.pendingDs))
  if (parts.length === 0) return null
  const merged = Y.mergeUpdates(parts)
  const others = new Map<number, number>()
  for (const client of Y.decodeStateVector(Y.encodeStateVectorFromUpdate(merged)).keys()) {
    if (!isOwn(client)) others.set(client, Number.MAX_SAFE_INTEGER)
  }
  return others.size > 0 ? Y.diffUpdate(merged, Y.encodeStateVector(others)) : merged
}

/** Whether the document already holds a pending deletion of the whole range. */
export function pendingDeletionCovers(doc: Y.Doc, range: DeletedRange): boolean {
  if (!doc.store.pendingDs) return false
  const pending = Y.decodeUpdate(Y.convertUpdateFormatV2ToV1(doc.store.pendingDs)).ds.clients.get(range.client) ?? []
  return pending.some((r) => r.clock <= range.clock && r.clock + r.len >= range.end)
}
