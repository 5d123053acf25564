/** The preferences part of the storage contract (contract additions, "Preferences"), run per backend through `storageContract`. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { mergePreferences } from '../../core/notifications/preferences.ts'
import type { Storage } from '../../core/storage/types.ts'
import type { BackendFactory } from './contract.ts'

export function preferencesContract(name: string, factory: BackendFactory): void {
  describe(`preferences: ${name}`, () => {
    let storage: Storage
    beforeEach(async () => {
      storage = await factory.open()
    })
    afterEach(async () => {
      await factory.destroy(storage)
    })

    it('stores only what a user set, per user, and keeps it across a reopen', async () => {
      expect(await storage.preferences.get('ana')).toBeNull()
      const quietHours = { start: '22:00', end: '07:00', timeZone: 'Europe/Paris' }
      await storage.preferences.update('ana', (current) => mergePreferences(current, { kinds: { reply: { push: false } }, quietHours }))
      await storage.preferences.update('ben', (current) => mergePreferences(current, { mutedSubjects: ['s1'] }))
      storage = await factory.reopen(storage)
      expect(await storage.preferences.get('ana')).toEqual({ kinds: { reply: { push: false } }, quietHours })
      expect(await storage.preferences.get('ben')).toEqual({ kinds: {}, mutedSubjects: ['s1'] })
      expect(await storage.preferences.get('cy')).toBeNull()
    })

    it('reads a batch of users at once: only those who set any, as one by one', async () => {
      expect((await storage.preferences.getMany([])).size).toBe(0)
      await storage.preferences.update('ana', (current) => mergePreferences(current, { kinds: { reply: { push: false } } }))
      await storage.preferences.update('ben', (current) => mergePreferences(current, { mutedSubjects: ['s1'] }))
      const many = await storage.preferences.getMany(['ana', 'ben', 'cy'])
      expect([...many.keys()].sort()).toEqual(['ana', 'ben'])
      expect(many.get('ana')).toEqual(await storage.preferences.get('ana'))
      expect(many.get('ben')).toEqual(await storage.preferences.get('ben'))
    })

    it('applies concurrent updates one after the other: none is lost', async () => {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          storage.preferences.update('ana', (current) => mergePreferences(current, { mutedSubjects: [...(current?.mutedSubjects ?? []), `s${i}`] })),
        ),
      )
      expect((await storage.preferences.get('ana'))?.mutedSubjects?.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `s${i}`).sort())
    })
  })
}
