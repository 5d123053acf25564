/**
 * What the detector asks about a recipient while it records one batch, each answer looked up once
 * per batch: may they read the subject (the access resolver, as for sockets), and do their
 * preferences let this kind into the inbox.
 */
import { commentsDocumentName } from '../../protocol/index.ts'
import type { AccessResolver } from '../access/resolve.ts'
import type { ParleyEvents } from '../events.ts'
import type { RecordResult } from '../storage/types.ts'
import { notificationEventId } from './ids.ts'
import { mayDeliver, type Preferences } from './preferences.ts'

export interface RecipientChecks {
  /** Looks up these recipients' answers in one read each (access, preferences) instead of one per recipient. */
  prefetch(userIds: readonly string[]): Promise<void>
  mayRead(userId: string): Promise<boolean>
  /** Whether the recipient's preferences let this notification into the inbox. */
  wantsInApp(userId: string, kind: string, priority: string): Promise<boolean>
}

export function recipientChecks(
  subjectId: string,
  access: AccessResolver,
  preferences: ((userId: string) => Promise<Preferences>) | undefined,
  now: number,
  /** The batch form of `preferences`: an entry for every user asked for. */
  preferencesOf?: ((userIds: readonly string[]) => Promise<Map<string, Preferences>>) | undefined,
): RecipientChecks {
  const documentName = commentsDocumentName(subjectId)
  const readers = new Map<string, Promise<boolean>>()
  const preferred = new Map<string, Promise<Preferences>>()
  return {
    async prefetch(userIds) {
      const unread = userIds.filter((id) => !readers.has(id))
      const unpreferred = preferences && preferencesOf ? userIds.filter((id) => !preferred.has(id)) : []
      const [allowed, chosen] = await Promise.all([
        unread.length > 0 ? access.readersAmong(unread, documentName) : null,
        unpreferred.length > 0 && preferencesOf ? preferencesOf(unpreferred) : null,
      ])
      if (allowed) for (const id of unread) readers.set(id, Promise.resolve(allowed.has(id)))
      for (const [id, prefs] of chosen ?? []) preferred.set(id, Promise.resolve(prefs))
    },
    mayRead(userId) {
      let answer = readers.get(userId)
      if (!answer) readers.set(userId, (answer = access.decideRemembered(userId, documentName).then((d) => d.ok)))
      return answer
    },
    async wantsInApp(userId, kind, priority) {
      if (!preferences) return true
      let prefs = preferred.get(userId)
      if (!prefs) preferred.set(userId, (prefs = preferences(userId)))
      return mayDeliver(await prefs, { kind, subjectId, priority }, 'inApp', now).ok
    },
  }
}

/** Announces the notifications a recording created (receivers dedupe by the event id). */
export function announceCreated(events: ParleyEvents, result: RecordResult): void {
  for (const { record, created } of result.notifications) {
    if (created)
      events.emit('notification.created', { userId: record.userId, notification: record }, notificationEventId(record.userId, record.id, record.version))
  }
}
