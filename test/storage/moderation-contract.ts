/** The moderation part of the storage contract (contract additions, "Moderation"), run per backend through `storageContract`. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Storage } from '../../core/storage/types.ts'
import type { BackendFactory } from './contract.ts'

export function moderationContract(name: string, factory: BackendFactory): void {
  describe(`moderation: ${name}`, () => {
    let storage: Storage
    beforeEach(async () => {
      storage = await factory.open()
    })
    afterEach(async () => {
      await factory.destroy(storage)
    })

    it('keeps a hidden comment’s words across a reopen, until they are removed', async () => {
      const body = {
        subjectId: 's',
        commentId: 'c1',
        authorId: 'ana',
        runs: [{ text: 'hi ' }, { text: '@Ben', mention: 'ben' }],
        hiddenBy: 'zoe',
        reason: 'spam',
        at: 5,
      }
      await storage.moderation.putHidden(body)
      storage = await factory.reopen(storage)
      expect(await storage.moderation.hidden('s', 'c1')).toEqual(body)
      expect(await storage.moderation.hidden('s', 'c2')).toBeNull()
      expect(await storage.moderation.removeHidden('s', 'c1')).toBe(true)
      expect(await storage.moderation.removeHidden('s', 'c1')).toBe(false)
      expect(await storage.moderation.hidden('s', 'c1')).toBeNull()
    })

    it('counts distinct reporters, a repeat once, and gives each count to exactly one of concurrent reports', async () => {
      expect(await storage.moderation.report('s', 'c1', 'ana', 'spam', 1)).toEqual({ added: true, reporters: 1 })
      expect(await storage.moderation.report('s', 'c1', 'ana', 'again', 2)).toEqual({ added: false, reporters: 1 })
      expect(await storage.moderation.report('s', 'c2', 'ana', 'spam', 3)).toEqual({ added: true, reporters: 1 })
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => storage.moderation.report('s', 'c1', `u${i}`, 'spam', 10 + i)))
      expect(results.every((r) => r.added)).toBe(true)
      expect(results.map((r) => r.reporters).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9])
    })

    it('pages the log newest first, per subject', async () => {
      for (let i = 0; i < 5; i++) {
        await storage.moderation.appendLog({ subjectId: 's', action: 'hide', actorId: 'zoe', targetUserId: 'ana', commentId: `c${i}`, reason: `r${i}`, at: i })
      }
      await storage.moderation.appendLog({ subjectId: 'other', action: 'ban', actorId: null, targetUserId: 'ben', commentId: null, reason: 'x', at: 9 })
      const first = await storage.moderation.listLog('s', { before: null, limit: 3 })
      expect(first.entries.map((e) => e.commentId)).toEqual(['c4', 'c3', 'c2'])
      expect(first.entries[0]).toMatchObject({ action: 'hide', actorId: 'zoe', targetUserId: 'ana', reason: 'r4', at: 4 })
      const second = await storage.moderation.listLog('s', { before: first.next, limit: 3 })
      expect(second.entries.map((e) => e.commentId)).toEqual(['c1', 'c0'])
      expect(second.next).toBeNull()
      expect((await storage.moderation.listLog('other', { before: null, limit: 3 })).entries).toEqual([
        expect.objectContaining({ action: 'ban', actorId: null, targetUserId: 'ben', commentId: null }),
      ])
    })

    it('lists users whose remembered claim names moderate', async () => {
      await storage.users.rememberToken('mia', { name: undefined, handle: undefined, access: { 'comments/news-*': 'moderate' } })
      await storage.users.rememberToken('al', { name: undefined, handle: undefined, access: { '*': 'moderate', 'comments/x': 'read' } })
      await storage.users.rememberToken('bo', { name: undefined, handle: undefined, access: { '*': 'comment' } })
      await storage.users.rememberToken('cy', { name: undefined, handle: undefined, access: undefined })
      expect(await storage.moderation.claimedModerators(10)).toEqual(['al', 'mia'])
      expect(await storage.moderation.claimedModerators(1)).toEqual(['al'])
    })

    it('stores, replaces and lifts bans', async () => {
      await storage.moderation.putBan({ subjectId: 's', userId: 'ana', reason: 'rude', until: 100, bannedBy: 'zoe', at: 1 })
      await storage.moderation.putBan({ subjectId: 's', userId: 'ana', reason: 'very rude', until: null, bannedBy: null, at: 2 })
      storage = await factory.reopen(storage)
      expect(await storage.moderation.ban('s', 'ana')).toEqual({ subjectId: 's', userId: 'ana', reason: 'very rude', until: null, bannedBy: null, at: 2 })
      expect(await storage.moderation.ban('s', 'ben')).toBeNull()
      expect(await storage.moderation.removeBan('s', 'ana')).toBe(true)
      expect(await storage.moderation.removeBan('s', 'ana')).toBe(false)
    })
  })
}
