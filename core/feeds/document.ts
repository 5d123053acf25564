/**
 * Writing a feed document on the server's side: the document is made to hold exactly the latest
 * items from storage (newest last), changing only what differs, so a replay changes nothing. An
 * item that moved (folded activity made it the newest) is deleted and inserted again at the end;
 * items past the bound leave the document (REST pages through them).
 */
import * as Y from 'yjs'
import { FEED_ITEMS, FeedItemField, type FeedItem } from '../../protocol/index.ts'

function fieldsOf(item: FeedItem): Record<string, unknown> {
  return {
    [FeedItemField.id]: item.id,
    [FeedItemField.type]: item.type,
    [FeedItemField.actorIds]: item.actorIds,
    [FeedItemField.subjectId]: item.subjectId,
    [FeedItemField.threadId]: item.threadId,
    [FeedItemField.commentId]: item.commentId,
    [FeedItemField.summary]: item.summary,
    [FeedItemField.count]: item.count,
    [FeedItemField.createdAt]: item.createdAt,
    [FeedItemField.updatedAt]: item.updatedAt,
  }
}

function same(a: unknown, b: unknown): boolean {
  return a === b || (Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => v === b[i]))
}

function idOf(entry: unknown): string | null {
  const id = entry instanceof Y.Map ? entry.get(FeedItemField.id) : null
  return typeof id === 'string' ? id : null
}

/**
 * Makes the document hold `newestFirst` (as storage lists it), oldest first in the array. Call
 * inside one transaction. Returns how many entries and fields it changed.
 */
export function projectFeed(doc: Y.Doc, newestFirst: readonly FeedItem[]): number {
  const items = doc.getArray<unknown>(FEED_ITEMS)
  const wanted = [...newestFirst].reverse()
  const wantedIds = new Set(wanted.map((item) => item.id))
  let changed = 0
  // Entries that are not wanted (older than the bound, taken back, or foreign) leave.
  for (let i = items.length - 1; i >= 0; i--) {
    const id = idOf(items.get(i))
    if (id === null || !wantedIds.has(id)) {
      items.delete(i, 1)
      changed++
    }
  }
  // The longest run in the wanted order stays; from the first entry out of place, the rest is rewritten.
  let keep = 0
  while (keep < items.length && keep < wanted.length && idOf(items.get(keep)) === wanted[keep]?.id) keep++
  if (keep < items.length) {
    changed += items.length - keep
    items.delete(keep, items.length - keep)
  }
  for (let i = 0; i < keep; i++) {
    const map = items.get(i) as Y.Map<unknown>
    const item = wanted[i]
    if (!item) continue
    for (const [key, value] of Object.entries(fieldsOf(item))) {
      if (same(map.get(key), value)) continue
      map.set(key, value)
      changed++
    }
  }
  const fresh = wanted.slice(keep).map((item) => new Y.Map<unknown>(Object.entries(fieldsOf(item))))
  if (fresh.length > 0) items.push(fresh)
  return changed + fresh.length
}

/** Whether an item id appears twice (two instances wrote the same item at once): the next projection mends it. */
export function hasDuplicateItems(doc: Y.Doc): boolean {
  const seen = new Set<string>()
  for (const entry of doc.getArray<unknown>(FEED_ITEMS)) {
    const id = idOf(entry)
    if (id === null) continue
    if (seen.has(id)) return true
    seen.add(id)
  }
  return false
}
