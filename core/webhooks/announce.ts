/**
 * The events of the contract additions that come from records made once (issue 17):
 * `thread.created` (a thread's first comment handled by detection), `notification.delivered` (a
 * delivery recorded as sent) and `feed.item.created` (a feed activity recorded by its idempotency
 * key). Their ids are derived from what was recorded, so an emission repeated after a crash has
 * the same id: the webhook outbox keeps one, receivers dedupe by it.
 */
import { createHash } from 'node:crypto'
import type { ParleyEventData, ParleyEvents } from '../events.ts'

/** Characters of base64url SHA-256 kept in a derived event id. */
const EVENT_ID_HASH_CHARS = 22

function eventId(type: string, parts: readonly string[]): string {
  return `evt_${createHash('sha256')
    .update([type, ...parts].join('\u0000'))
    .digest('base64url')
    .slice(0, EVENT_ID_HASH_CHARS)}`
}

export function announceThreadCreated(events: ParleyEvents, data: ParleyEventData['thread.created']): void {
  events.emit('thread.created', data, eventId('thread.created', [data.subjectId, data.threadId]))
}

export function announceDelivered(events: ParleyEvents, data: ParleyEventData['notification.delivered']): void {
  const parts = [data.userId, data.notificationId, data.channel, data.deviceId ?? '', String(data.round)]
  events.emit('notification.delivered', data, eventId('notification.delivered', parts))
}

/** What `feed.item.created` needs of a feed activity (core/feeds/aggregate.ts `FeedActivity`). */
export interface RecordedFeedActivity {
  id: string
  kind: 'add' | 'retract'
  itemId: string
  type: string
  subjectId: string | null
  threadId: string | null
  commentId: string | null
  actorIds: string[]
  summary: string | null
  priority: string
  at: number
  feeds: string[]
}

/** Announces an `add` activity (a retraction takes an item back: no event). */
export function announceFeedItem(events: ParleyEvents, activity: RecordedFeedActivity): void {
  if (activity.kind !== 'add') return
  const { itemId, type, subjectId, threadId, commentId, actorIds, summary, priority, at } = activity
  const data = { itemId, feedIds: [...activity.feeds], type, subjectId, threadId, commentId, actorIds: [...actorIds], summary, priority, at }
  events.emit('feed.item.created', data, eventId('feed.item.created', [activity.id]))
}
