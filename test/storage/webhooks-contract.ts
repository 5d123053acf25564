/** The webhook outbox part of the storage contract (issue 17), run per backend through `storageContract`. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Storage } from '../../core/storage/types.ts'
import type { BackendFactory } from './contract.ts'

const event = (id: string, subject: string, nextAt = 0) => ({ id, type: 'comment.created', subject, body: `{"id":"${id}"}`, nextAt, createdAt: 1 })

export function webhooksContract(name: string, factory: BackendFactory): void {
  describe(`webhooks: ${name}`, () => {
    let storage: Storage
    beforeEach(async () => {
      storage = await factory.open()
    })
    afterEach(async () => {
      await factory.destroy(storage)
    })

    it('records an event once and keeps it across a reopen', async () => {
      expect(await storage.webhooks.enqueue(event('e1', 's'))).toBe(true)
      expect(await storage.webhooks.enqueue(event('e1', 'other'))).toBe(false)
      storage = await factory.reopen(storage)
      expect(await storage.webhooks.get('e1')).toEqual({ ...event('e1', 's'), status: 'pending', attempts: 0, lastError: null, updatedAt: 1 })
      expect(await storage.webhooks.get('nope')).toBeNull()
    })

    it('offers only the oldest pending event of each subject, when due, and not for excluded subjects', async () => {
      await storage.webhooks.enqueue(event('a1', 'a'))
      await storage.webhooks.enqueue(event('b1', 'b', 50))
      await storage.webhooks.enqueue(event('a2', 'a'))
      await storage.webhooks.enqueue(event('c1', 'c'))
      expect((await storage.webhooks.due(10, 10, [])).map((r) => r.id)).toEqual(['a1', 'c1'])
      expect((await storage.webhooks.due(100, 10, [])).map((r) => r.id)).toEqual(['a1', 'b1', 'c1'])
      expect((await storage.webhooks.due(100, 2, ['a'])).map((r) => r.id)).toEqual(['b1', 'c1'])
      // a failing event holds the later ones of its subject
      await storage.webhooks.update('a1', { status: 'pending', attempts: 1, nextAt: 500, lastError: 'HTTP 500', updatedAt: 20 })
      expect((await storage.webhooks.due(100, 10, [])).map((r) => r.id)).toEqual(['b1', 'c1'])
      expect(await storage.webhooks.nextDue()).toBe(0)
      // once it is sent (or dead), the next one of the subject comes
      await storage.webhooks.update('a1', { status: 'dead', attempts: 2, nextAt: 500, lastError: 'HTTP 500', updatedAt: 30 })
      expect((await storage.webhooks.due(100, 10, ['b', 'c'])).map((r) => r.id)).toEqual(['a2'])
      expect(await storage.webhooks.get('a1')).toMatchObject({ status: 'dead', attempts: 2, lastError: 'HTTP 500', updatedAt: 30 })
      for (const id of ['a2', 'b1', 'c1']) await storage.webhooks.update(id, { status: 'sent', attempts: 1, nextAt: 0, lastError: null, updatedAt: 40 })
      expect(await storage.webhooks.due(1000, 10, [])).toEqual([])
      expect(await storage.webhooks.nextDue()).toBeNull()
    })
  })
}
