/**
 * What an update's deferred structs (those waiting for structs the document lacks) will write
 * once they integrate, as far as it can be told now: their explicit parent, or the entry their
 * origin overwrites.
 */
import * as Y from 'yjs'
import { normalize, type Placement, type TypeKey, type UpdateIndex } from './update-index.ts'

/** Whether a deferred struct of the update writes one of `keys` of the map `type`. */
export function defersWriteOf(index: UpdateIndex, type: TypeKey, keys: readonly string[]): boolean {
  return index.deferred.some((struct) => {
    if (!(struct instanceof Y.Item)) return false
    const placement = deferredPlacement(index, struct)
    return placement !== null && placement.parent === type && placement.key !== null && keys.includes(placement.key)
  })
}

/** Where a deferred item goes, when its parent or its origin is known now; null otherwise. */
function deferredPlacement(index: UpdateIndex, item: Y.Item): Placement | null {
  const parent: unknown = item.parent
  if (typeof parent === 'string') return { parent, key: item.parentSub }
  if (parent instanceof Y.ID) {
    const fresh = index.freshAt(parent)
    if (fresh) return fresh.content instanceof Y.ContentType ? { parent: fresh, key: item.parentSub } : null
    const existing = existingItem(index.doc, parent)
    return existing?.content instanceof Y.ContentType ? { parent: normalize(existing.content.type), key: item.parentSub } : null
  }
  const neighbour = item.origin ?? item.rightOrigin
  if (!neighbour) return null
  const fresh = index.freshAt(neighbour)
  if (fresh) return index.placementOf(fresh)
  const existing = existingItem(index.doc, neighbour)
  return existing ? { parent: normalize(existing.parent as Y.AbstractType<unknown>), key: existing.parentSub } : null
}

/** The document's item covering `id`, or null when it has none (or only a garbage-collected struct). */
function existingItem(doc: Y.Doc, id: Y.ID): Y.Item | null {
  if (id.clock >= Y.getState(doc.store, id.client)) return null
  const struct = Y.getItem(doc.store, id) as Y.Item | Y.GC
  return struct instanceof Y.Item ? struct : null
}
