/**
 * Pending activities in groups, and when each group is due. Foldable `add` activities with the
 * same cursor, type, subject and feeds join one group (a burst in one subject: each feed's row is
 * then written once for all of them); any other activity is alone and closes the open groups of
 * its subject, so a retraction never overtakes the comment it takes back. A group is due once its
 * most urgent activity's batching window has passed (an integrator's item at once), or once a later group of the same subject is
 * due (a subject's groups are applied in order; an activity may arrive early, never late).
 */
import type { FeedPriority } from '../../protocol/index.ts'
import type { PendingFeedActivity } from '../storage/feed-types.ts'
import type { FeedActivity } from './aggregate.ts'

/** Most activities applied as one group. */
export const MAX_GROUP = 1_000

/** Feed lists this long are compared by identity (storage hands out one array per stored list). */
const LONG_LIST = 16

export interface PendingGroup {
  activities: FeedActivity[]
  cursor: number
}

const listIds = new WeakMap<readonly string[], number>()
let nextListId = 0

function feedsKey(feeds: readonly string[]): string {
  if (feeds.length < LONG_LIST) return feeds.join('\n')
  let id = listIds.get(feeds)
  if (id === undefined) {
    id = nextListId++
    listIds.set(feeds, id)
  }
  return `#${id}`
}

/** The page in groups, in the order of their first activity. */
export function groupPending(page: readonly PendingFeedActivity[]): PendingGroup[] {
  const groups: PendingGroup[] = []
  const open = new Map<string, PendingGroup>()
  for (const { activity, cursor } of page) {
    const subject = `${activity.subjectId ?? ''}\n`
    if (activity.kind !== 'add' || activity.summary !== null) {
      for (const key of [...open.keys()]) if (key.startsWith(subject)) open.delete(key)
      groups.push({ activities: [activity], cursor })
      continue
    }
    const key = [subject + activity.type, cursor, activity.checkReaders, feedsKey(activity.feeds)].join('\n')
    const group = open.get(key)
    if (group && group.activities.length < MAX_GROUP) {
      group.activities.push(activity)
      continue
    }
    const fresh = { activities: [activity], cursor }
    open.set(key, fresh)
    groups.push(fresh)
  }
  return groups
}

/**
 * When an activity may be applied: once its window ends, so that the window's burst is one group.
 * An integrator's item never groups: it is applied at once (REST lists it), and its document still
 * gets it in its priority's batch.
 */
export function dueAt(activity: FeedActivity, windows: Readonly<Record<FeedPriority, number>>): number {
  return activity.summary === null ? activity.at + windows[activity.priority] : activity.at
}

/** When each group is due (same order as `groups`). */
export function dueTimes(groups: readonly PendingGroup[], windows: Readonly<Record<FeedPriority, number>>): number[] {
  const due = groups.map((group) => Math.min(...group.activities.map((a) => dueAt(a, windows))))
  const laterOfSubject = new Map<string, number>()
  for (let i = groups.length - 1; i >= 0; i--) {
    const subject = groups[i]?.activities[0]?.subjectId ?? ''
    const own = Math.min(due[i] ?? Infinity, laterOfSubject.get(subject) ?? Infinity)
    due[i] = own
    laterOfSubject.set(subject, own)
  }
  return due
}
