/** The client-owner part of the storage contract, run per backend through `storageContract`. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Storage } from '../../core/storage/types.ts'
import type { BackendFactory } from './contract.ts'

export function clientOwnerContract(name: string, factory: BackendFactory): void {
  describe(`client owners: ${name}`, () => {
    let storage: Storage
    beforeEach(async () => {
      storage = await factory.open()
    })
    afterEach(async () => {
      await factory.destroy(storage)
    })

    it('binds client ids to a user per document, keeps the first owner, and survives a reopen', async () => {
      // Yjs client ids are unsigned 32-bit numbers: the largest must round-trip.
      await storage.clientOwners.bind('comments/a', [1, 4_294_967_295], 'ana')
      await storage.clientOwners.bind('comments/a', [1, 7], 'mallory')
      await storage.clientOwners.bind('comments/b', [1], 'ben')
      await storage.clientOwners.bind('comments/b', [], 'nobody')
      storage = await factory.reopen(storage)
      expect(await storage.clientOwners.owners('comments/a')).toEqual(
        new Map([
          [1, 'ana'],
          [4_294_967_295, 'ana'],
          [7, 'mallory'],
        ]),
      )
      expect(await storage.clientOwners.owners('comments/b')).toEqual(new Map([[1, 'ben']]))
      expect((await storage.clientOwners.owners('comments/none')).size).toBe(0)
    })
  })
}
