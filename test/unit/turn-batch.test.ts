/** server/webhooks/turn-batch.ts: calls of one turn as one batch, batches one at a time, in call order. */
import { describe, expect, it } from 'vitest'
import { turnBatch } from '../../server/webhooks/turn-batch.ts'

describe('turnBatch', () => {
  it('runs the calls of one turn as one batch and answers each with its own result', async () => {
    const batches: number[][] = []
    const double = turnBatch(async (items: number[]) => {
      batches.push(items)
      return (item: number) => item * 2
    })
    expect(await Promise.all([double(1), double(2), double(3)])).toEqual([2, 4, 6])
    expect(await double(4)).toBe(8)
    expect(batches).toEqual([[1, 2, 3], [4]])
  })

  it('runs one batch at a time: calls made while one runs form the next, in call order', async () => {
    const log: string[] = []
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const run = turnBatch(async (items: string[]) => {
      log.push(`start ${items.join(',')}`)
      if (items.includes('a')) await gate
      log.push(`end ${items.join(',')}`)
      return () => undefined
    })
    const first = run('a')
    await Promise.resolve()
    await Promise.resolve()
    const later = [run('b'), run('c')]
    await new Promise((resolve) => setImmediate(resolve))
    expect(log).toEqual(['start a'])
    release()
    await Promise.all([first, ...later])
    expect(log).toEqual(['start a', 'end a', 'start b,c', 'end b,c'])
  })

  it('rejects every call of a failed batch, and runs the next batch anyway', async () => {
    let fail = true
    const run = turnBatch(async (items: number[]) => {
      if (fail) throw new Error(`batch of ${items.length} failed`)
      return (item: number) => item
    })
    const failed = await Promise.allSettled([run(1), run(2)])
    expect(failed.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['Error: batch of 2 failed', 'Error: batch of 2 failed'])
    fail = false
    expect(await run(3)).toBe(3)
  })
})
