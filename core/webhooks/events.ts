/**
 * Which typed events become webhooks, and the subject each belongs to: events of one subject
 * are delivered in order (a failing one holds the later ones of its subject, not others).
 */
import type { ParleyEvent } from '../events.ts'

/** The ordering key of an event: its subject, or the user for user-level events. */
export function webhookSubject(event: ParleyEvent): string {
  const data: object = event.data
  if ('subjectId' in data && typeof data.subjectId === 'string') return `subject:${data.subjectId}`
  if ('notification' in data && typeof data.notification === 'object' && data.notification !== null && 'subjectId' in data.notification) {
    const subjectId = data.notification.subjectId
    if (typeof subjectId === 'string') return `subject:${subjectId}`
  }
  if ('userId' in data && typeof data.userId === 'string') return `user:${data.userId}`
  if ('feedIds' in data && Array.isArray(data.feedIds) && typeof data.feedIds[0] === 'string') return `feed:${data.feedIds[0]}`
  return ''
}

/** The body of the POST: exactly `{ id, type, createdAt, data }`. */
export function webhookBody(event: ParleyEvent): string {
  return JSON.stringify({ id: event.id, type: event.type, createdAt: event.createdAt, data: event.data })
}
