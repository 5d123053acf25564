/**
 * Reports past the threshold (contract additions, "Moderation"): the subject's moderators get one
 * `moderation` notification for the comment. It is recorded as the comment event `reports`, which
 * storage marks handled in the same transaction as the notifications: of two instances that both
 * see the threshold crossed, only the first records anything (exactly once per moderator).
 * Nobody hears their own report; moderators whose preferences turn `moderation` off in-app get nothing.
 */
import { commentsDocumentName, roleAtLeast } from '../../protocol/index.ts'
import type { AccessResolver } from '../access/resolve.ts'
import type { ParleyEvents } from '../events.ts'
import { commentEventId } from '../storage/notification-fold.ts'
import type { ActivityInput, RecordResult, Storage } from '../storage/types.ts'
import { recordCommentEvents } from './comment-events.ts'
import { moderationNotificationId, preview } from './ids.ts'
import type { Preferences } from './preferences.ts'
import { recipientChecks } from './recipient-checks.ts'
import { MODERATION_KIND, MODERATION_PRIORITY } from './rules.ts'

/** The comment event under which reports past the threshold are recorded. */
export const REPORTS_EVENT = 'reports'

export interface ReportNoticeOptions {
  storage: Storage
  access: AccessResolver
  events: ParleyEvents
  preferences?: ((userId: string) => Promise<Preferences>) | undefined
}

export interface ReportNotice {
  subjectId: string
  threadId: string
  commentId: string
  /** The reporter whose report reached the threshold (the actor; never a recipient). */
  reporterId: string
  reason: string
  /** Users to consider besides the stored members (e.g. the subject's hosts); each is checked for `moderate`. */
  candidates?: readonly string[]
}

/** Users with a remembered `moderate` claim considered per report (each is checked against the subject). */
export const MAX_CLAIMED_MODERATORS = 1_000

/**
 * The subject's moderators: stored members, users whose remembered claim names `moderate`, and
 * the given candidates, each kept when their role on the subject (membership, default role,
 * remembered claim, minus a ban) is `moderate`.
 */
export async function subjectModerators(storage: Storage, access: AccessResolver, subjectId: string, candidates: readonly string[] = []): Promise<string[]> {
  const documentName = commentsDocumentName(subjectId)
  const [members, claimed] = await Promise.all([storage.subjects.listMembers(subjectId), storage.moderation.claimedModerators(MAX_CLAIMED_MODERATORS)])
  const users = new Set([...members.map((m) => m.userId), ...claimed, ...candidates])
  const moderators: string[] = []
  for (const userId of users) {
    const decision = await access.decideRemembered(userId, documentName)
    if (decision.ok && roleAtLeast(decision.value.role, 'moderate')) moderators.push(userId)
  }
  return moderators.sort()
}

/** Records the one notification per moderator (a second call for the same comment records nothing). */
export async function notifyModeratorsOfReports(options: ReportNoticeOptions, notice: ReportNotice): Promise<RecordResult> {
  const { subjectId, commentId } = notice
  const now = Date.now()
  const { mayRead, wantsInApp } = recipientChecks(subjectId, options.access, options.preferences, now)
  const eventId = commentEventId(commentId, REPORTS_EVENT)
  const activities: ActivityInput[] = []
  for (const moderator of await subjectModerators(options.storage, options.access, subjectId, notice.candidates)) {
    if (moderator === notice.reporterId) continue
    if (!(await mayRead(moderator)) || !(await wantsInApp(moderator, MODERATION_KIND, MODERATION_PRIORITY))) continue
    activities.push({
      key: { kind: MODERATION_KIND, subjectId, commentId: eventId, recipient: moderator },
      commentId,
      notificationId: moderationNotificationId(subjectId, commentId, moderator),
      fold: true,
      kind: MODERATION_KIND,
      priority: MODERATION_PRIORITY,
      threadId: notice.threadId,
      actor: notice.reporterId,
      preview: preview(notice.reason),
      at: now,
    })
  }
  const handled = { mentions: new Map(), comments: new Set<string>(), events: new Set<string>() }
  return recordCommentEvents(options.storage, options.events, handled, [{ subjectId, commentId, event: REPORTS_EVENT, activities }])
}
