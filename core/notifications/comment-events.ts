/**
 * Recording comment events (reactions, moderation actions): each handled once, with its
 * notification, in one storage call; removed reactions taken back. Keeps the document's handled
 * set in step with storage and announces the notifications created.
 */
import type { ParleyEvents } from '../events.ts'
import { commentEventId } from '../storage/notification-fold.ts'
import type { ActivityInput, CommentEventRef, HandledSets, RecordResult, Storage, TakeBackInput } from '../storage/types.ts'
import { announceCreated } from './recipient-checks.ts'
import { CHANNELS } from './rules.ts'

const EMPTY: RecordResult = { mentions: [], notifications: [], removed: [] }

export async function recordCommentEvents(
  storage: Storage,
  events: ParleyEvents,
  handled: HandledSets,
  added: ReadonlyArray<CommentEventRef & { activities: ActivityInput[] }>,
  takeBacks: readonly TakeBackInput[] = [],
  channels: readonly string[] = CHANNELS,
): Promise<RecordResult> {
  if (added.length === 0 && takeBacks.length === 0) return EMPTY
  const result = await storage.notifications.record({ mentions: [], comments: [], events: added, takeBacks, channels })
  // Storage is the source of truth: a take-back that found its notification read keeps its mark there.
  for (const e of added) handled.events.add(commentEventId(e.commentId, e.event))
  for (const t of takeBacks) handled.events.delete(commentEventId(t.commentId, t.event))
  announceCreated(events, result)
  return result
}
