/** Typed readers: a comments document as plain objects. Tolerant of partial or foreign data. */
import * as Y from 'yjs'
import { mentionedIds, readRuns, runsToText } from './body.ts'
import { CommentField, REACTION_SEPARATOR, ThreadField, type Comment, type FollowerRole, type Moderation, type Reaction, type Thread } from './fields.ts'
import { followersMap, threadsMap } from './write.ts'

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** A comment's `moderation` value, or null when it is unset or malformed. */
export function readModeration(value: unknown): Moderation | null {
  if (typeof value !== 'object' || value === null) return null
  const m = value as Record<string, unknown>
  const hiddenBy = str(m.hiddenBy)
  const at = num(m.at)
  return hiddenBy !== null && at !== null ? { hiddenBy, reason: str(m.reason) ?? '', at } : null
}

function readReactions(map: unknown): Reaction[] {
  if (!(map instanceof Y.Map)) return []
  const byEmoji = new Map<string, Array<{ userId: string; at: number }>>()
  for (const [key, at] of map.entries()) {
    const split = key.lastIndexOf(REACTION_SEPARATOR)
    if (split <= 0) continue
    const emoji = key.slice(0, split)
    const list = byEmoji.get(emoji) ?? []
    list.push({ userId: key.slice(split + 1), at: num(at) ?? 0 })
    byEmoji.set(emoji, list)
  }
  // Map iteration order differs between replicas: sort, so that every replica reads the same.
  const reactions = [...byEmoji].map(([emoji, list]) => {
    list.sort((a, b) => a.at - b.at || a.userId.localeCompare(b.userId))
    return { emoji, first: list[0]?.at ?? 0, userIds: list.map((r) => r.userId) }
  })
  reactions.sort((a, b) => a.first - b.first || a.emoji.localeCompare(b.emoji))
  return reactions.map(({ emoji, userIds }) => ({ emoji, userIds }))
}

export function readComment(map: Y.Map<unknown>): Comment | null {
  const id = str(map.get(CommentField.id))
  const authorId = str(map.get(CommentField.authorId))
  if (id === null || authorId === null) return null
  const deletedAt = num(map.get(CommentField.deletedAt))
  const moderation = readModeration(map.get(CommentField.moderation))
  const text = map.get(CommentField.body)
  // deletedAt wins over whatever the body holds; hidden words have left the document.
  const body = deletedAt === null && text instanceof Y.Text ? readRuns(text) : []
  return {
    id,
    authorId,
    createdAt: num(map.get(CommentField.createdAt)) ?? 0,
    editedAt: num(map.get(CommentField.editedAt)),
    deletedAt,
    parentId: str(map.get(CommentField.parentId)),
    moderation,
    body,
    text: runsToText(body),
    mentions: mentionedIds(body),
    reactions: readReactions(map.get(CommentField.reactions)),
  }
}

function readRecord<T>(map: unknown, pick: (v: unknown) => T | null): Record<string, T> {
  const out: Record<string, T> = {}
  if (map instanceof Y.Map) {
    // Sorted keys: every replica lists them in the same order.
    for (const [key, value] of [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const picked = pick(value)
      if (picked !== null) out[key] = picked
    }
  }
  return out
}

export function readThread(map: Y.Map<unknown>): Thread | null {
  const id = str(map.get(ThreadField.id))
  const createdBy = str(map.get(ThreadField.createdBy))
  if (id === null || createdBy === null) return null
  const comments = map.get(ThreadField.comments)
  return {
    id,
    createdBy,
    createdAt: num(map.get(ThreadField.createdAt)) ?? 0,
    resolved: map.get(ThreadField.resolved) === true,
    resolvedBy: str(map.get(ThreadField.resolvedBy)),
    resolvedAt: num(map.get(ThreadField.resolvedAt)),
    comments:
      comments instanceof Y.Array
        ? comments.toArray().flatMap((c) => (c instanceof Y.Map ? [readComment(c)].filter((x): x is Comment => x !== null) : []))
        : [],
    subscribers: readRecord(map.get(ThreadField.subscribers), (v) => (typeof v === 'boolean' ? v : null)),
    readBy: readRecord(map.get(ThreadField.readBy), num),
    metadata: readRecord(map.get(ThreadField.metadata), (v) => (v instanceof Y.AbstractType ? v.toJSON() : (v as unknown))),
  }
}

/** All threads, oldest first (ties by id, so every replica lists them in the same order). */
export function readThreads(doc: Y.Doc): Thread[] {
  const threads: Thread[] = []
  for (const map of threadsMap(doc).values()) {
    if (!(map instanceof Y.Map)) continue
    const thread = readThread(map)
    if (thread) threads.push(thread)
  }
  return threads.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
}

export function readFollowers(doc: Y.Doc): Record<string, FollowerRole> {
  return readRecord(followersMap(doc), (v) => (v === 'host' || v === 'follower' ? v : null))
}
