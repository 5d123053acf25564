/** A push message from a notification: a title that names the actors and what they did, the preview as body. */
import type { NotificationRecord } from '../storage/types.ts'
import type { PushMessage } from './senders.ts'

const DOING: Record<string, string> = {
  mention: 'mentioned you',
  reply: 'replied',
  thread: 'started a thread',
  comment: 'commented',
  reaction: 'reacted to your comment',
  moderation: 'moderated your comment',
}

/** "Ana", "Ana and Ben", "Ana and 3 others". */
export function actorsPhrase(names: readonly string[], count: number): string {
  const [first, second] = names
  if (first === undefined) return 'Someone'
  const others = Math.max(count, names.length) - 1
  if (others <= 0) return first
  if (others === 1 && second !== undefined) return `${first} and ${second}`
  return `${first} and ${others} others`
}

export function pushMessage(record: NotificationRecord, names: readonly string[], badge: number, url: string | undefined): PushMessage {
  const doing = DOING[record.kind] ?? 'did something'
  return {
    notificationId: record.id,
    kind: record.kind,
    title: `${actorsPhrase(names, record.actors.length)} ${doing}`,
    body: record.preview,
    subjectId: record.subjectId,
    threadId: record.threadId,
    collapseId: record.id,
    badge,
    urgency: record.kind === 'mention' || record.priority === 'urgent' || record.priority === 'high' ? 'high' : 'normal',
    url,
  }
}
