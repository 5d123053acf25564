/** The reaction part of the notification storage contract, run per backend through `storageContract`. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { commentEventId } from '../../core/storage/notification-fold.ts'
import type { ActivityInput, RecordBatch, Storage } from '../../core/storage/types.ts'
import type { BackendFactory } from './contract.ts'

const CHANNELS = ['inbox']
const NOTE = 'a-c1-ana'

/** `reactor` reacts with `emoji` to ana's comment c1; it notifies ana unless `silent`. */
function reacted(reactor: string, emoji: string, silent = false): RecordBatch {
  const reactionKey = `${emoji}|${reactor}`
  const activity: ActivityInput = {
    key: { kind: 'reaction', subjectId: 's1', commentId: commentEventId('c1', reactionKey), recipient: 'ana' },
    commentId: 'c1',
    notificationId: NOTE,
    fold: true,
    kind: 'reaction',
    priority: 'low',
    threadId: 't1',
    actor: reactor,
    preview: 'my photo',
    at: Date.now(),
  }
  return {
    mentions: [],
    comments: [],
    events: [{ subjectId: 's1', commentId: 'c1', event: reactionKey, activities: silent ? [] : [activity] }],
    channels: CHANNELS,
  }
}

function removed(reactor: string, emoji: string, actorStays = false): RecordBatch {
  const takeBack = {
    subjectId: 's1',
    commentId: 'c1',
    event: `${emoji}|${reactor}`,
    userId: 'ana',
    notificationId: NOTE,
    kind: 'reaction',
    actor: reactor,
    actorStays,
  }
  return { mentions: [], comments: [], takeBacks: [takeBack], channels: CHANNELS }
}

export function reactionContract(name: string, factory: BackendFactory): void {
  describe(`reaction notifications: ${name}`, () => {
    let storage: Storage
    beforeEach(async () => {
      storage = await factory.open()
    })
    afterEach(async () => {
      await factory.destroy(storage)
    })

    it('records each reaction once, folded per comment, with its handled mark', async () => {
      expect((await storage.notifications.record(reacted('ben', '👍'))).notifications).toMatchObject([{ created: true }])
      const repeats = await Promise.all([storage.notifications.record(reacted('ben', '👍')), storage.notifications.record(reacted('ben', '👍'))])
      expect(repeats.flatMap((r) => r.notifications)).toEqual([])
      expect((await storage.notifications.record(reacted('cid', '❤️'))).notifications).toMatchObject([{ created: false }])
      await storage.notifications.record(reacted('dan', '👀', true))
      storage = await factory.reopen(storage)
      expect(await storage.notifications.get('ana', NOTE)).toMatchObject({ kind: 'reaction', commentId: 'c1', actors: ['cid', 'ben'], activityCount: 2 })
      expect((await storage.notifications.handled('s1')).events).toEqual(new Set(['👍|ben', '❤️|cid', '👀|dan'].map((key) => commentEventId('c1', key))))
    })

    it('takes a reaction back while unread (the last one removes the notification), never once read', async () => {
      await storage.notifications.record(reacted('ben', '👍'))
      await storage.notifications.record(reacted('cid', '👍'))
      await storage.notifications.record(reacted('cid', '❤️'))
      const stays = await storage.notifications.record(removed('cid', '❤️', true))
      expect(stays.notifications).toMatchObject([{ created: false, record: { actors: ['cid', 'ben'], activityCount: 2 } }])
      expect(await storage.notifications.outboxOf('ana', NOTE)).toMatchObject([{ status: 'pending', version: stays.notifications[0]!.record.version }])
      await storage.notifications.record(removed('cid', '👍'))
      expect(await storage.notifications.get('ana', NOTE)).toMatchObject({ actors: ['ben'], activityCount: 1 })
      // Never handled (or handled without notifying): nothing to take back.
      expect(await storage.notifications.record(removed('zed', '👍'))).toMatchObject({ notifications: [], removed: [] })
      const last = await storage.notifications.record(removed('ben', '👍'))
      expect(last.removed).toEqual([{ userId: 'ana', id: NOTE }])
      expect(await storage.notifications.get('ana', NOTE)).toBeNull()
      expect(await storage.notifications.outboxOf('ana', NOTE)).toEqual([])
      expect((await storage.notifications.handled('s1')).events).toEqual(new Set())

      // Added again it counts again; once read, a removal changes nothing and the mark stays.
      expect((await storage.notifications.record(reacted('ben', '👍'))).notifications).toMatchObject([{ created: true }])
      await storage.notifications.markRead('ana', [NOTE], Date.now() + 1, CHANNELS)
      expect(await storage.notifications.record(removed('ben', '👍'))).toMatchObject({ notifications: [], removed: [] })
      expect(await storage.notifications.get('ana', NOTE)).toMatchObject({ activityCount: 1, actors: ['ben'] })
      expect((await storage.notifications.record(reacted('ben', '👍'))).notifications).toEqual([])
    })
  })
}
