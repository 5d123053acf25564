/**
 * core/storage/notification-fold.ts: how activity creates or folds into a notification, the pure
 * functions every storage backend shares.
 */
import { describe, expect, it } from 'vitest'
import { foldInto, isUnread, MAX_ACTORS, mayTakeBack, newNotification, unfold } from '../../core/storage/notification-fold.ts'
import type { ActivityInput, NotificationRecord } from '../../core/storage/notification-types.ts'

const T = 1_700_000_000_000

function activity(actor: string, at: number, extra: Partial<ActivityInput> = {}): ActivityInput {
  return {
    key: { kind: 'reply', subjectId: 's1', commentId: `c-${actor}-${at}`, recipient: 'ana' },
    commentId: `c-${actor}-${at}`,
    notificationId: 'r_thread',
    fold: true,
    kind: 'reply',
    priority: 'normal',
    threadId: 't1',
    actor,
    preview: `from ${actor}`,
    at,
    ...extra,
  }
}

describe('PROTOCOL §Inbox document as implemented: unread', () => {
  it('is readAt null or earlier than notifiedAt', () => {
    expect(isUnread({ readAt: null, notifiedAt: T })).toBe(true)
    expect(isUnread({ readAt: T - 1, notifiedAt: T })).toBe(true)
    expect(isUnread({ readAt: T, notifiedAt: T })).toBe(false)
    expect(isUnread({ readAt: T + 1, notifiedAt: T })).toBe(false)
  })
})

describe('PROTOCOL §Inbox document as implemented: a new notification', () => {
  it('holds every field, unread, version 1', () => {
    expect(newNotification(activity('ben', T))).toEqual({
      userId: 'ana',
      id: 'r_thread',
      kind: 'reply',
      priority: 'normal',
      subjectId: 's1',
      threadId: 't1',
      commentId: `c-ben-${T}`,
      actors: ['ben'],
      activityCount: 1,
      preview: 'from ben',
      createdAt: T,
      notifiedAt: T,
      readAt: null,
      seenAt: null,
      archivedAt: null,
      version: 1,
    } satisfies NotificationRecord)
  })
})

describe('PROTOCOL §Inbox document as implemented: folding', () => {
  it('never folds a mention (fold: false)', () => {
    const existing = newNotification(activity('ben', T, { kind: 'mention', fold: false }))
    expect(foldInto(existing, activity('cid', T + 1, { kind: 'mention', fold: false }))).toBeNull()
  })

  it('folds a reply into the unread notification of its thread: count + 1, replier first, the rest moves on', () => {
    const first = { ...newNotification(activity('ben', T)), archivedAt: T + 5 }
    const folded = foldInto(first, activity('cid', T + 10))
    expect(folded).toEqual({
      ...first,
      commentId: `c-cid-${T + 10}`,
      actors: ['cid', 'ben'],
      activityCount: 2,
      preview: 'from cid',
      notifiedAt: T + 10,
      archivedAt: T + 5,
      version: 2,
    })
    // The same replier again moves to the front, once.
    expect(foldInto(folded!, activity('ben', T + 20))?.actors).toEqual(['ben', 'cid'])
  })

  it(`keeps at most ${MAX_ACTORS} actors, latest first`, () => {
    let record = newNotification(activity('u0', T))
    for (let i = 1; i <= 12; i++) record = foldInto(record, activity(`u${i}`, T + i))!
    expect(record.actors).toEqual(['u12', 'u11', 'u10', 'u9', 'u8', 'u7', 'u6', 'u5', 'u4', 'u3'])
    expect(record.activityCount).toBe(13)
    expect(record.version).toBe(13)
  })

  it('starts a new round under the same id once read: count 1, the replier alone, unarchived, unread again', () => {
    const read = { ...foldInto(newNotification(activity('ben', T)), activity('cid', T + 10))!, readAt: T + 20, archivedAt: T + 21 }
    const next = foldInto(read, activity('dan', T + 30))!
    expect(next).toMatchObject({
      id: 'r_thread',
      actors: ['dan'],
      activityCount: 1,
      notifiedAt: T + 30,
      readAt: T + 20,
      archivedAt: null,
      createdAt: T,
      version: 3,
    })
    expect(isUnread(next)).toBe(true)
  })

  it('never moves notifiedAt back, and makes a new round unread even when the replier’s clock is behind', () => {
    const unread = newNotification(activity('ben', T + 100))
    expect(foldInto(unread, activity('cid', T + 50))?.notifiedAt).toBe(T + 100)
    const read = { ...unread, readAt: T + 200 }
    const next = foldInto(read, activity('cid', T + 150))!
    expect(next.notifiedAt).toBe(T + 201)
    expect(isUnread(next)).toBe(true)
  })
})

describe('PROTOCOL §Notification kinds: a reaction taken back', () => {
  const takeBack = {
    subjectId: 's1',
    commentId: 'c1',
    event: '👍|ben',
    userId: 'ana',
    notificationId: 'r_thread',
    kind: 'reaction',
    actor: 'ben',
    actorStays: false,
  }
  const folded = foldInto(newNotification(activity('ben', T)), activity('cid', T + 10))!

  it('only while unread, and only from the current round', () => {
    expect(mayTakeBack(folded, T + 20)).toBe(true)
    const read = { ...folded, readAt: T + 30 }
    expect(mayTakeBack(read, T + 20)).toBe(false)
    // A new round after the read: reactions recorded before the read are not in it.
    const round = foldInto(read, activity('dan', T + 40))!
    expect(mayTakeBack(round, T + 20)).toBe(false)
    expect(mayTakeBack(round, T + 41)).toBe(true)
  })

  it('counts one less and drops the actor unless they keep another reaction; the last one empties it', () => {
    expect(unfold(folded, takeBack)).toMatchObject({ actors: ['cid'], activityCount: 1, version: folded.version + 1 })
    expect(unfold(folded, { ...takeBack, actorStays: true })).toMatchObject({ actors: ['cid', 'ben'], activityCount: 1 })
    expect(unfold(newNotification(activity('ben', T)), takeBack)).toBeNull()
  })
})
