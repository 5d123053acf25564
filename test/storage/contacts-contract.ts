/** Users' email and locale in the storage contract (issue 17), run per backend through `storageContract`. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Storage } from '../../core/storage/types.ts'
import type { BackendFactory } from './contract.ts'

export function contactsContract(name: string, factory: BackendFactory): void {
  describe(`contacts: ${name}`, () => {
    let storage: Storage
    beforeEach(async () => {
      storage = await factory.open()
    })
    afterEach(async () => {
      await factory.destroy(storage)
    })

    it('changes only the given fields, removes on null, and keeps them across a reopen', async () => {
      expect(await storage.contacts.get('ana')).toBeNull()
      expect(await storage.contacts.put('ana', { email: 'ana@example.com', locale: 'pt-BR' }, 1)).toEqual({
        email: 'ana@example.com',
        locale: 'pt-BR',
        updatedAt: 1,
      })
      expect(await storage.contacts.put('ana', { locale: 'en' }, 2)).toEqual({ email: 'ana@example.com', locale: 'en', updatedAt: 2 })
      expect(await storage.contacts.put('ana', { email: null }, 3)).toEqual({ email: null, locale: 'en', updatedAt: 3 })
      await storage.contacts.put('ben', { email: 'ben@example.com' }, 4)
      storage = await factory.reopen(storage)
      expect(await storage.contacts.get('ana')).toEqual({ email: null, locale: 'en', updatedAt: 3 })
      expect(await storage.contacts.get('ben')).toEqual({ email: 'ben@example.com', locale: null, updatedAt: 4 })
    })

    it('remembers when the last email went to a user, never going back, and only for users with a contact', async () => {
      expect(await storage.contacts.lastEmailedAt('ana')).toBeNull()
      await storage.contacts.put('ana', { email: 'ana@example.com' }, 1)
      expect(await storage.contacts.lastEmailedAt('ana')).toBeNull()
      await storage.contacts.markEmailed('ana', 5_000)
      await storage.contacts.markEmailed('ana', 4_000)
      await storage.contacts.markEmailed('nobody', 5_000)
      expect(await storage.contacts.lastEmailedAt('ana')).toBe(5_000)
      expect(await storage.contacts.lastEmailedAt('nobody')).toBeNull()
      expect(await storage.contacts.get('ana')).toEqual({ email: 'ana@example.com', locale: null, updatedAt: 1 })
      storage = await factory.reopen(storage)
      expect(await storage.contacts.lastEmailedAt('ana')).toBe(5_000)
    })
  })
}
