/**
 * Concurrent inserts into one sequence (a comment body, a thread's comments): new items of one
 * update that name the same origin and the same right origin. Yjs orders each such item against
 * all those already integrated between the two (its conflict scan), so their cost grows with the
 * square of their number. An honest update holds one per client id that inserted at the same
 * place (a user's devices); Yjs encoders never write more under one client id.
 */
import type { TypeKey, UpdateIndex } from './update-index.ts'

/** Whether more than `limit` new sequence items of the update share their origin and right origin. */
export function tooManyConcurrentInserts(index: UpdateIndex, limit: number): boolean {
  const counts = new Map<string, number>()
  // Items with neither origin: the start of a sequence, told apart by their parent.
  const atStart = new Map<TypeKey, number>()
  for (const item of index.freshItems) {
    if (item.parentSub !== null) continue
    const { origin, rightOrigin } = item
    if (origin === null && rightOrigin === null) {
      const { parent, key } = index.placementOf(item)
      if (key !== null) continue
      const count = (atStart.get(parent) ?? 0) + 1
      if (count > limit) return true
      atStart.set(parent, count)
      continue
    }
    const position = `${origin?.client ?? ''}:${origin?.clock ?? ''}|${rightOrigin?.client ?? ''}:${rightOrigin?.clock ?? ''}`
    const count = (counts.get(position) ?? 0) + 1
    if (count > limit) return true
    counts.set(position, count)
  }
  return false
}
