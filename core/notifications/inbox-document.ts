/**
 * Writing and reading an inbox document on the server's side. The projection sets each field
 * from storage, and only where the document differs, so that replaying it changes nothing;
 * `readAt` and `seenAt` only move forward (a mark the owner just set in the document, on its way to storage,
 * is never undone). Entries beyond the latest ones are deleted: the document stays bounded.
 */
import * as Y from 'yjs'
import { INBOX_NOTIFICATIONS, NotificationField } from '../../protocol/index.ts'
import type { NotificationMarks } from '../storage/notification-types.ts'
import type { NotificationRecord } from '../storage/types.ts'
import { notificationUrl } from './app-url.ts'

function fieldsOf(r: NotificationRecord, appUrl: string | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    [NotificationField.id]: r.id,
    [NotificationField.kind]: r.kind,
    [NotificationField.priority]: r.priority,
    [NotificationField.subjectId]: r.subjectId,
    [NotificationField.threadId]: r.threadId,
    [NotificationField.commentId]: r.commentId,
    [NotificationField.actors]: r.actors,
    [NotificationField.activityCount]: r.activityCount,
    [NotificationField.preview]: r.preview,
    [NotificationField.createdAt]: r.createdAt,
    [NotificationField.notifiedAt]: r.notifiedAt,
    [NotificationField.readAt]: r.readAt,
    [NotificationField.seenAt]: r.seenAt,
    [NotificationField.archivedAt]: r.archivedAt,
  }
  if (appUrl !== undefined) fields[NotificationField.url] = notificationUrl(appUrl, r)
  return fields
}

function same(a: unknown, b: unknown): boolean {
  return a === b || (Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => v === b[i]))
}

function laterRead(current: unknown, stored: number | null): number | null {
  const mine = typeof current === 'number' ? current : null
  if (mine === null) return stored
  return stored === null ? mine : Math.max(mine, stored)
}

/**
 * Makes the document hold exactly `latest` (newest first, as storage lists them), each with its
 * link when `appUrl` (`PARLEY_APP_URL`) is set. Call inside one transaction. Returns how many
 * fields and entries it changed.
 */
export function project(doc: Y.Doc, latest: readonly NotificationRecord[], appUrl?: string): number {
  const root = doc.getMap<unknown>(INBOX_NOTIFICATIONS)
  let changed = 0
  const keep = new Set(latest.map((r) => r.id))
  for (const key of [...root.keys()]) {
    if (!keep.has(key)) {
      root.delete(key)
      changed++
    }
  }
  for (const record of latest) changed += setEntry(root, record, appUrl)
  return changed
}

/**
 * Sets these records' entries in a document that holds the latest `limit` notifications (as
 * {@link project} leaves it), then deletes the oldest entries beyond `limit`: the document then
 * holds what `project` of the new latest list would give, at the cost of the changed records only.
 * Call inside one transaction. Returns how many fields and entries it changed.
 */
export function upsert(doc: Y.Doc, records: readonly NotificationRecord[], limit: number, appUrl?: string): number {
  const root = doc.getMap<unknown>(INBOX_NOTIFICATIONS)
  let changed = 0
  for (const record of records) changed += setEntry(root, record, appUrl)
  if (root.size <= limit) return changed
  // Storage's order: newest `notifiedAt` first, then id ascending; the tail goes.
  const entries = [...root.entries()].map(([id, entry]) => ({ id, at: entry instanceof Y.Map ? Number(entry.get(NotificationField.notifiedAt)) : -Infinity }))
  entries.sort((a, b) => b.at - a.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  for (const { id } of entries.slice(limit)) {
    root.delete(id)
    changed++
  }
  return changed
}

/** Makes one entry hold the record (created whole, or only the fields that differ); `readAt`/`seenAt` never move back. */
function setEntry(root: Y.Map<unknown>, record: NotificationRecord, appUrl: string | undefined): number {
  const fields = fieldsOf(record, appUrl)
  const existing = root.get(record.id)
  if (!(existing instanceof Y.Map)) {
    // Created whole, with every field, in this transaction.
    root.set(record.id, new Y.Map(Object.entries(fields)))
    return 1
  }
  const map = existing as Y.Map<unknown>
  fields[NotificationField.readAt] = laterRead(map.get(NotificationField.readAt), record.readAt)
  fields[NotificationField.seenAt] = laterRead(map.get(NotificationField.seenAt), record.seenAt)
  let changed = 0
  for (const [key, value] of Object.entries(fields)) {
    if (same(map.get(key), value)) continue
    map.set(key, value)
    changed++
  }
  return changed
}

/** The owner's marks a transaction set: notification id → the `readAt` / `seenAt` / `archivedAt` it holds now. */
export function marksIn(tr: Y.Transaction): Array<{ id: string } & NotificationMarks> {
  const root = tr.doc.share.get(INBOX_NOTIFICATIONS)
  const marks: Array<{ id: string } & NotificationMarks> = []
  for (const [type, keys] of tr.changed) {
    const item = type._item
    if (!(type instanceof Y.Map) || !item || item.parent !== root || item.parentSub === null) continue
    const mark: { id: string } & NotificationMarks = { id: item.parentSub }
    for (const field of [NotificationField.readAt, NotificationField.seenAt, NotificationField.archivedAt] as const) {
      const value: unknown = type.get(field)
      if (keys.has(field) && (value === null || typeof value === 'number')) mark[field] = value
    }
    if (mark.readAt !== undefined || mark.seenAt !== undefined || mark.archivedAt !== undefined) marks.push(mark)
  }
  return marks
}
