/** core/delivery/policy.ts and message.ts: what the push channel decides, how it backs off, and what a push says. */
import { describe, expect, it } from 'vitest'
import { bypassesDigest, digestHoldUntil, summaryMessage } from '../../core/delivery/digest.ts'
import { actorsPhrase, pushMessage } from '../../core/delivery/message.ts'
import { decide, PUSH_RETRY_BASE_MS, PUSH_RETRY_MAX_MS, retryDelay } from '../../core/delivery/policy.ts'
import { effectivePreferences } from '../../core/notifications/preferences.ts'
import type { NotificationRecord } from '../../core/storage/types.ts'

const T = Date.UTC(2026, 11, 4, 12, 0) // 13:00 in Paris
const NOTE: NotificationRecord = {
  userId: 'ben',
  id: 'r_1',
  kind: 'reply',
  priority: 'normal',
  subjectId: 's1',
  threadId: 't1',
  commentId: 'c1',
  actors: ['ana', 'cid', 'dan'],
  activityCount: 4,
  preview: 'sounds good',
  createdAt: T - 1000,
  notifiedAt: T,
  readAt: null,
  seenAt: null,
  archivedAt: null,
  version: 3,
}

describe('PROTOCOL §Delivery: the push policy', () => {
  const prefs = effectivePreferences(null)
  it('sends an unread notification to someone not present, skips read, present, off and muted', () => {
    expect(decide(NOTE, prefs, false, 'push', T)).toEqual({ send: true })
    expect(decide({ ...NOTE, readAt: T }, prefs, false, 'push', T)).toEqual({ send: false, skip: 'read' })
    expect(decide(NOTE, prefs, true, 'push', T)).toEqual({ send: false, skip: 'present' })
    expect(decide({ ...NOTE, kind: 'thread' }, prefs, false, 'push', T)).toEqual({ send: false, skip: 'channel_off' })
    expect(decide(NOTE, { ...prefs, mutedSubjects: ['s1'] }, false, 'push', T)).toEqual({ send: false, skip: 'subject_muted' })
  })

  it('holds for quiet hours until they end, unless urgent', () => {
    const quiet = { ...prefs, quietHours: { start: '12:30', end: '14:00', timeZone: 'Europe/Paris' } }
    expect(decide(NOTE, quiet, false, 'push', T)).toEqual({ send: false, holdUntil: Date.UTC(2026, 11, 4, 13, 0) })
    expect(decide({ ...NOTE, priority: 'urgent' }, quiet, false, 'push', T)).toEqual({ send: true })
  })

  it('backs off exponentially with jitter in the upper half, capped, never before Retry-After', () => {
    expect(retryDelay(0, () => 0)).toBe(PUSH_RETRY_BASE_MS / 2)
    expect(retryDelay(0, () => 1)).toBe(PUSH_RETRY_BASE_MS)
    expect(retryDelay(3, () => 1)).toBe(PUSH_RETRY_BASE_MS * 8)
    expect(retryDelay(40, () => 1)).toBe(PUSH_RETRY_MAX_MS)
    expect(retryDelay(0, () => 0, 30_000)).toBe(30_000)
    expect(Number.isInteger(retryDelay(2, () => 0.123456))).toBe(true)
  })
})

describe('PROTOCOL §Devices: the push message', () => {
  it('names the actors and what they did; mentions and high priority are urgent', () => {
    expect(actorsPhrase(['Ana'], 1)).toBe('Ana')
    expect(actorsPhrase(['Ana', 'Cid'], 2)).toBe('Ana and Cid')
    expect(actorsPhrase(['Ana', 'Cid'], 3)).toBe('Ana and 2 others')
    expect(actorsPhrase([], 0)).toBe('Someone')
    expect(pushMessage(NOTE, ['Ana', 'Cid'], 7, 'https://x/s1')).toEqual({
      notificationId: 'r_1',
      kind: 'reply',
      title: 'Ana and 2 others replied',
      body: 'sounds good',
      subjectId: 's1',
      threadId: 't1',
      collapseId: 'r_1',
      badge: 7,
      urgency: 'normal',
      url: 'https://x/s1',
    })
    expect(pushMessage({ ...NOTE, kind: 'mention', actors: ['ana'] }, ['Ana'], 1, undefined)).toMatchObject({ title: 'Ana mentioned you', urgency: 'high' })
  })
})

describe('PROTOCOL §Delivery: the digest', () => {
  it('lets the first push of a window go at once and holds later ones to its end', () => {
    expect(digestHoldUntil(null, 300_000, T)).toBeNull()
    expect(digestHoldUntil(T - 10_000, 300_000, T)).toBe(T + 290_000)
    expect(digestHoldUntil(T - 300_000, 300_000, T)).toBeNull()
    expect(digestHoldUntil(T - 1, 0, T)).toBeNull()
    expect(bypassesDigest({ kind: 'mention', priority: 'high' })).toBe(true)
    expect(bypassesDigest({ kind: 'reply', priority: 'urgent' })).toBe(true)
    expect(bypassesDigest({ kind: 'reply', priority: 'normal' })).toBe(false)
  })

  it('sums what waited into one message', () => {
    const second = { ...NOTE, id: 'r_2', threadId: 't2', activityCount: 1, notifiedAt: T + 5, preview: 'me too' }
    expect(summaryMessage([NOTE, second], 9, undefined)).toMatchObject({
      title: '5 new replies',
      body: 'me too',
      notificationId: 'r_2',
      threadId: null,
      badge: 9,
      collapseId: 'digest_ben',
    })
    expect(summaryMessage([NOTE, { ...second, kind: 'comment' }], 9, undefined)).toMatchObject({ title: '5 new notifications', kind: 'digest' })
  })
})
