/** The notification part of the storage contract, run per backend through `storageContract`. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MARK_PREDATES_NOTIFICATIONS } from '../../core/storage/notification-types.ts'
import type { ActivityInput, Storage } from '../../core/storage/types.ts'
import type { BackendFactory } from './contract.ts'

const CHANNELS = ['inbox']

function mentionActivity(commentId: string, recipient: string, at = 1_000): ActivityInput {
  return {
    key: { kind: 'mention', subjectId: 's1', commentId, recipient },
    commentId,
    notificationId: `m-${commentId}-${recipient}`,
    fold: false,
    kind: 'mention',
    priority: 'high',
    threadId: 't1',
    actor: 'ana',
    preview: `hello ${recipient}`,
    at,
  }
}

function replyActivity(commentId: string, recipient: string, actor: string, at: number): ActivityInput {
  return {
    key: { kind: 'reply', subjectId: 's1', commentId, recipient },
    commentId,
    notificationId: `r-t1-${recipient}`,
    fold: true,
    kind: 'reply',
    priority: 'normal',
    threadId: 't1',
    actor,
    preview: `reply ${commentId}`,
    at,
  }
}

/** Notified mentions of `commentIds`, one per comment, one ms apart from 1 000; `recipient` picks each one's user. */
function notifiedMentions(commentIds: readonly string[], recipient: (index: number) => string = () => 'ben') {
  return commentIds.map((commentId, i) => ({
    subjectId: 's1',
    commentId,
    userId: recipient(i),
    outcome: 'notified' as const,
    activity: mentionActivity(commentId, recipient(i), 1_000 + i),
  }))
}

export function notificationContract(name: string, factory: BackendFactory): void {
  describe(`notifications: ${name}`, () => {
    let storage: Storage
    beforeEach(async () => {
      storage = await factory.open()
    })
    afterEach(async () => {
      await factory.destroy(storage)
    })

    it('records a mention once: handled set, notification and outbox row in one step; a repeat is skipped', async () => {
      const batch = {
        mentions: [
          { subjectId: 's1', commentId: 'c1', userId: 'ben', outcome: 'notified' as const, activity: mentionActivity('c1', 'ben') },
          { subjectId: 's1', commentId: 'c1', userId: 'ana', outcome: 'self' as const },
        ],
        comments: [],
        channels: CHANNELS,
      }
      const first = await storage.notifications.record(batch)
      expect(first.mentions.map((m) => m.userId)).toEqual(['ben', 'ana'])
      expect(first.notifications).toHaveLength(1)
      expect(first.notifications[0]?.created).toBe(true)
      // Concurrent repeats (another instance, a reconcile) record nothing more.
      const repeats = await Promise.all([storage.notifications.record(batch), storage.notifications.record(batch)])
      expect(repeats.flatMap((r) => r.notifications)).toEqual([])
      storage = await factory.reopen(storage)
      const handled = await storage.notifications.handled('s1')
      expect([...(handled.mentions.get('c1') ?? [])].sort()).toEqual(['ana', 'ben'])
      const stored = await storage.notifications.get('ben', 'm-c1-ben')
      expect(stored).toMatchObject({ kind: 'mention', actors: ['ana'], activityCount: 1, readAt: null, preview: 'hello ben', version: 1 })
      expect(await storage.notifications.get('ana', 'm-c1-ana')).toBeNull()
      expect(await storage.notifications.outboxOf('ben', 'm-c1-ben')).toMatchObject([{ channel: 'inbox', status: 'pending', version: 1 }])
    })

    it('folds replies per thread while unread; a read one starts a new round under the same id', async () => {
      const reply = (commentId: string, actor: string, at: number) =>
        storage.notifications.record({
          mentions: [],
          comments: [{ subjectId: 's1', commentId, activities: [replyActivity(commentId, 'ana', actor, at)] }],
          channels: CHANNELS,
        })
      expect((await reply('c2', 'ben', 2_000)).notifications[0]?.created).toBe(true)
      expect((await reply('c3', 'cid', 3_000)).notifications[0]?.created).toBe(false)
      await reply('c3', 'cid', 3_500) // the same comment again: nothing
      expect(await storage.notifications.get('ana', 'r-t1-ana')).toMatchObject({ activityCount: 2, actors: ['cid', 'ben'], notifiedAt: 3_000, commentId: 'c3' })
      expect(await storage.notifications.unreadCount('ana')).toBe(1)
      const read = await storage.notifications.markRead('ana', ['r-t1-ana'], 4_000, CHANNELS)
      expect(read.map((r) => r.readAt)).toEqual([4_000])
      expect(await storage.notifications.unreadCount('ana')).toBe(0)
      await reply('c4', 'ben', 3_900) // a clock behind the read marker still makes it unread
      const again = await storage.notifications.get('ana', 'r-t1-ana')
      expect(again).toMatchObject({ activityCount: 1, actors: ['ben'], readAt: 4_000 })
      expect(again!.notifiedAt).toBeGreaterThan(4_000)
      expect(await storage.notifications.unreadCount('ana')).toBe(1)
      expect((await storage.notifications.handled('s1')).comments).toEqual(new Set(['c2', 'c3', 'c4']))
    })

    it('lists newest first with a cursor, counts unread, marks read (some, all) and takes marks from the inbox document', async () => {
      const mentions = notifiedMentions(['c1', 'c2', 'c3', 'c4'])
      await storage.notifications.record({ mentions, comments: [], channels: CHANNELS })
      const page1 = await storage.notifications.list('ben', { unreadOnly: false, limit: 3, after: null })
      expect(page1.map((n) => n.commentId)).toEqual(['c4', 'c3', 'c2'])
      const last = page1.at(-1)!
      const page2 = await storage.notifications.list('ben', { unreadOnly: false, limit: 3, after: { notifiedAt: last.notifiedAt, id: last.id } })
      expect(page2.map((n) => n.commentId)).toEqual(['c1'])
      expect(await storage.notifications.unreadCount('ben')).toBe(4)
      expect(await storage.notifications.setMarks('ben', 'm-c1-ben', { readAt: 5_000 })).toBe(true)
      expect(await storage.notifications.setMarks('ben', 'm-c1-ben', { readAt: 4_000 })).toBe(false) // never backwards
      expect(await storage.notifications.setMarks('ben', 'm-c2-ben', { archivedAt: 6_000 })).toBe(true)
      expect((await storage.notifications.get('ben', 'm-c2-ben'))?.archivedAt).toBe(6_000)
      // c1 is read, c2 archived (archived ones are not counted).
      expect(await storage.notifications.unreadCount('ben')).toBe(2)
      expect((await storage.notifications.list('ben', { unreadOnly: true, limit: 10, after: null })).map((n) => n.commentId)).toEqual(['c4', 'c3', 'c2'])
      expect((await storage.notifications.markRead('ben', ['m-c4-ben', 'm-c1-ben', 'nope'], 7_000, CHANNELS)).map((n) => n.id)).toEqual(['m-c4-ben'])
      expect((await storage.notifications.markRead('ben', 'all', 8_000, CHANNELS)).map((n) => n.id).sort()).toEqual(['m-c2-ben', 'm-c3-ben'])
      expect(await storage.notifications.unreadCount('ben')).toBe(0)
    })

    it('counts unseen, marks seen (some, all; forward only), archives, and lists archived or not', async () => {
      const mentions = notifiedMentions(['c1', 'c2', 'c3'])
      await storage.notifications.record({ mentions, comments: [], channels: CHANNELS })
      expect(await storage.notifications.unseenCount('ben')).toBe(3)
      expect((await storage.notifications.markSeen('ben', ['m-c1-ben', 'nope'], 500, CHANNELS)).map((n) => [n.id, n.seenAt])).toEqual([['m-c1-ben', 1_000]])
      expect(await storage.notifications.setMarks('ben', 'm-c2-ben', { seenAt: 5_000 })).toBe(true)
      expect(await storage.notifications.setMarks('ben', 'm-c2-ben', { seenAt: 4_000 })).toBe(false) // never backwards
      expect(await storage.notifications.unseenCount('ben')).toBe(1)
      expect((await storage.notifications.markSeen('ben', 'all', 6_000, CHANNELS)).map((n) => n.id)).toEqual(['m-c3-ben'])
      expect(await storage.notifications.unseenCount('ben')).toBe(0)
      // Seen is not read.
      expect(await storage.notifications.unreadCount('ben')).toBe(3)

      expect((await storage.notifications.archive('ben', ['m-c2-ben', 'nope'], 7_000, CHANNELS)).map((n) => [n.id, n.archivedAt])).toEqual([
        ['m-c2-ben', 7_000],
      ])
      expect(await storage.notifications.archive('ben', ['m-c2-ben'], 8_000, CHANNELS)).toEqual([])
      const list = async (archived: boolean | undefined) =>
        (await storage.notifications.list('ben', { unreadOnly: false, archived, limit: 10, after: null })).map((n) => n.commentId)
      expect(await list(false)).toEqual(['c3', 'c1'])
      expect(await list(true)).toEqual(['c2'])
      expect(await list(undefined)).toEqual(['c3', 'c2', 'c1'])
      expect(await storage.notifications.outboxOf('ben', 'm-c2-ben')).toMatchObject([{ status: 'pending', version: 3 }])
    })

    it('expires notifications older than a time with their outbox rows, in batches, and forgets delivered rows', async () => {
      const mentions = notifiedMentions(['c1', 'c2', 'c3'], (i) => (i === 2 ? 'cid' : 'ben'))
      await storage.notifications.record({ mentions, comments: [], channels: CHANNELS })
      expect(await storage.notifications.expire(1_000, 10)).toEqual({ users: [], removed: 0 })
      const first = await storage.notifications.expire(1_002, 1)
      expect(first.removed).toBe(1)
      const second = await storage.notifications.expire(1_002, 10)
      expect(second.removed).toBe(1)
      expect([...first.users, ...second.users]).toEqual(['ben', 'ben'])
      expect(await storage.notifications.list('ben', { unreadOnly: false, limit: 10, after: null })).toEqual([])
      expect(await storage.notifications.outboxOf('ben', 'm-c1-ben')).toEqual([])
      // Cid's is newer: it stays, and its delivered outbox row goes once finished before the cutoff.
      expect(await storage.notifications.list('cid', { unreadOnly: false, limit: 10, after: null })).toHaveLength(1)
      const claimed = await storage.notifications.claimOutbox('inbox', Date.now(), 60_000, 10)
      await storage.notifications.outboxDelivered(claimed, Date.now())
      await storage.notifications.expire(1_002, 10)
      expect(await storage.notifications.outboxOf('cid', 'm-c3-cid')).toHaveLength(1)
      await storage.notifications.expire(Date.now() + 1, 10)
      expect(await storage.notifications.outboxOf('cid', 'm-c3-cid')).toEqual([])
      // Handled marks stay: a repeat of the batch records nothing again.
      const repeat = await storage.notifications.record({ mentions, comments: [], channels: CHANNELS })
      expect(repeat.notifications).toEqual([])
    })

    it('drains the outbox: claims lease rows, delivery records the version, failures retry later', async () => {
      await storage.notifications.record({
        mentions: [{ subjectId: 's1', commentId: 'c1', userId: 'ben', outcome: 'notified', activity: mentionActivity('c1', 'ben') }],
        comments: [],
        channels: CHANNELS,
      })
      const claimed = await storage.notifications.claimOutbox('inbox', Date.now(), 60_000, 10)
      expect(claimed).toHaveLength(1)
      expect(await storage.notifications.claimOutbox('inbox', Date.now(), 60_000, 10)).toEqual([]) // leased
      await storage.notifications.outboxFailed(claimed[0]!, 'boom', Date.now() - 1)
      const retried = await storage.notifications.claimOutbox('inbox', Date.now(), 60_000, 10)
      expect(retried).toMatchObject([{ attempts: 1, lastError: 'boom' }])
      // The notification changes after the claim: delivering the old version leaves it pending.
      await storage.notifications.markRead('ben', ['m-c1-ben'], Date.now(), CHANNELS)
      await storage.notifications.outboxDelivered(retried, Date.now())
      expect(await storage.notifications.outboxOf('ben', 'm-c1-ben')).toMatchObject([{ status: 'pending', version: 2 }])
      const next = await storage.notifications.claimOutbox('inbox', Date.now(), 60_000, 10)
      await storage.notifications.outboxDelivered(next, Date.now())
      expect(await storage.notifications.outboxOf('ben', 'm-c1-ben')).toMatchObject([{ status: 'delivered', deliveredVersion: 2, attempts: 0 }])
    })

    it('tells which documents have writes after their detection mark', async () => {
      expect(await storage.notifications.documentHead('comments/a')).toBe(0)
      await storage.documents.append('comments/a', new Uint8Array([0, 0]))
      const head = await storage.documents.append('comments/a', new Uint8Array([0, 0]))
      await storage.documents.append('comments/b', new Uint8Array([0, 0]))
      expect(await storage.notifications.documentHead('comments/a')).toBe(head)
      expect(await storage.notifications.detectionMark('comments/a')).toBeNull()
      await storage.notifications.setDetectionMark('comments/a', head)
      await storage.notifications.setDetectionMark('comments/b', 0)
      expect(await storage.notifications.documentsToReconcile()).toEqual(['comments/b'])
      await storage.documents.append('comments/a', new Uint8Array([0, 0]))
      await storage.notifications.setDetectionMark('comments/a', head - 1) // never goes back
      expect(await storage.notifications.detectionMark('comments/a')).toBe(head)
      expect(await storage.notifications.documentsToReconcile()).toEqual(['comments/a', 'comments/b'])
    })

    it('lists comments documents written and never marked, not those that predate notifications, nor other kinds', async () => {
      await storage.documents.append('comments/unmarked', new Uint8Array([0, 0]))
      await storage.documents.append('comments/old', new Uint8Array([0, 0]))
      await storage.documents.append('inbox/ana', new Uint8Array([0, 0]))
      await storage.notifications.setDetectionMark('comments/old', MARK_PREDATES_NOTIFICATIONS)
      await storage.notifications.setDetectionMark('comments/opened-only', 0)
      expect(await storage.notifications.detectionMark('comments/old')).toBe(MARK_PREDATES_NOTIFICATIONS)
      expect(await storage.notifications.documentsToReconcile()).toEqual(['comments/unmarked'])
      // Compacted: the head lives in the snapshot; still listed until marked.
      await storage.documents.compact('comments/unmarked', (parts) => parts[0] ?? new Uint8Array([0, 0]))
      expect(await storage.notifications.documentsToReconcile()).toEqual(['comments/unmarked'])
      await storage.notifications.setDetectionMark('comments/unmarked', await storage.notifications.documentHead('comments/unmarked'))
      // The baseline done, the old document's mark moves to its head like any other.
      await storage.notifications.setDetectionMark('comments/old', await storage.notifications.documentHead('comments/old'))
      expect(await storage.notifications.documentsToReconcile()).toEqual([])
      await storage.documents.append('comments/old', new Uint8Array([0, 0]))
      expect(await storage.notifications.documentsToReconcile()).toEqual(['comments/old'])
    })
  })
}
