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

    const claim = async (now: number, limit = 10, owner = 'me', leaseMs = 1_000) => (await storage.webhooks.claim(now, limit, owner, leaseMs)).map((r) => r.id)
    const sent = { status: 'sent', attempts: 1, nextAt: 0, lastError: null, updatedAt: 40 } as const

    it('claims only the oldest pending event of each subject, when due, and only once until the claim ends', async () => {
      await storage.webhooks.enqueue(event('a1', 'a'))
      await storage.webhooks.enqueue(event('b1', 'b', 50))
      await storage.webhooks.enqueue(event('a2', 'a'))
      await storage.webhooks.enqueue(event('c1', 'c'))
      expect(await claim(10, 1)).toEqual(['a1'])
      // a1 is claimed: its subject waits; c1 is next
      expect(await claim(10)).toEqual(['c1'])
      expect(await claim(100, 10, 'other')).toEqual(['b1'])
      expect(await claim(100)).toEqual([])
      // a failing event holds the later ones of its subject
      expect(await storage.webhooks.settle('a1', 'me', { status: 'pending', attempts: 1, nextAt: 500, lastError: 'HTTP 500', updatedAt: 20 })).toBe(true)
      expect(await storage.webhooks.settle('b1', 'other', sent)).toBe(true)
      expect(await storage.webhooks.settle('c1', 'me', sent)).toBe(true)
      expect(await claim(100)).toEqual([])
      // a2 is due but held behind a1: the loop looks again after its poll period
      expect(await storage.webhooks.nextDue()).toBe(0)
      // once it is dead (or sent), the next one of the subject comes
      await storage.webhooks.update('a1', { status: 'dead', attempts: 2, nextAt: 500, lastError: 'HTTP 500', updatedAt: 30 })
      expect(await storage.webhooks.get('a1')).toMatchObject({ status: 'dead', attempts: 2, lastError: 'HTTP 500', updatedAt: 30 })
      expect(await claim(100)).toEqual(['a2'])
      expect(await storage.webhooks.settle('a2', 'me', sent)).toBe(true)
      expect(await claim(1000)).toEqual([])
      expect(await storage.webhooks.nextDue()).toBeNull()
    })

    it('lets a claim run out (its owner died), refuses the late owner, and releases claims at shutdown', async () => {
      await storage.webhooks.enqueue(event('a1', 'a'))
      await storage.webhooks.enqueue(event('b1', 'b'))
      expect(await claim(10, 10, 'dead', 100)).toEqual(['a1', 'b1'])
      expect(await storage.webhooks.nextDue()).toBe(110)
      expect(await claim(109, 10, 'alive')).toEqual([])
      expect(await claim(110, 1, 'alive')).toEqual(['a1'])
      // the first owner comes back too late: its outcome is not recorded
      expect(await storage.webhooks.settle('a1', 'dead', sent)).toBe(false)
      expect(await storage.webhooks.get('a1')).toMatchObject({ status: 'pending', attempts: 0 })
      await storage.webhooks.release('alive')
      expect(await claim(111, 10, 'third')).toEqual(['a1', 'b1'])
    })

    it('settles several attempts at once, only those the owner still holds', async () => {
      for (const [id, subject] of [
        ['a', 's1'],
        ['b', 's2'],
        ['c', 's3'],
      ] as const)
        await storage.webhooks.enqueue(event(id, subject))
      expect(await claim(10, 2, 'me')).toEqual(['a', 'b'])
      expect(await claim(10, 1, 'other')).toEqual(['c'])
      const retry = { status: 'pending' as const, attempts: 1, nextAt: 900, lastError: 'HTTP 500', updatedAt: 20 }
      expect(await storage.webhooks.settleMany('me', [])).toEqual([])
      expect(
        await storage.webhooks.settleMany('me', [
          { id: 'a', change: sent },
          { id: 'c', change: sent },
          { id: 'b', change: retry },
        ]),
      ).toEqual(['a', 'b'])
      expect(await storage.webhooks.get('a')).toMatchObject({ status: 'sent', attempts: 1 })
      expect(await storage.webhooks.get('b')).toMatchObject({ status: 'pending', attempts: 1, nextAt: 900, lastError: 'HTTP 500' })
      // c stays with its owner, untouched
      expect(await storage.webhooks.get('c')).toMatchObject({ status: 'pending', attempts: 0 })
      expect(await storage.webhooks.settle('b', 'me', sent)).toBe(false)
    })

    it('records a batch in its order, leaving ids recorded before as they are', async () => {
      await storage.webhooks.enqueue(event('b', 's2'))
      await storage.webhooks.enqueueMany([event('a', 's1'), event('b', 'other'), event('c', 's1'), event('d', 's3')])
      expect(await storage.webhooks.get('b')).toMatchObject({ subject: 's2' })
      expect(await claim(10)).toEqual(['b', 'a', 'd'])
      expect(await storage.webhooks.settle('a', 'me', sent)).toBe(true)
      expect(await claim(10)).toEqual(['c'])
    })

    it('never hands one event to two owners claiming at the same time', async () => {
      for (let i = 0; i < 40; i++) await storage.webhooks.enqueue(event(`e${i}`, `s${i % 20}`))
      const owners = ['x', 'y', 'z', 'w']
      const claimed = (await Promise.all(owners.map((owner) => claim(10, 10, owner)))).flat()
      expect(claimed).toHaveLength(20)
      expect(new Set(claimed).size).toBe(20)
    })
  })
}
