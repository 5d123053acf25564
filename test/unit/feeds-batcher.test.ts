/** core/feeds/batcher.ts with an injected clock: one flush per feed per batch window, by priority. */
import { describe, expect, it } from 'vitest'
import { createBatcher, DEFAULT_BATCH_WINDOWS } from '../../core/feeds/batcher.ts'
import { manualClock } from './feeds-activity.ts'

function setup(windows = DEFAULT_BATCH_WINDOWS) {
  const clock = manualClock()
  const flushes: Array<{ feed: string; at: number }> = []
  const batcher = createBatcher({
    clock,
    windows,
    flush: async (feed) => {
      flushes.push({ feed, at: clock.now() - clock.start })
    },
    onError: (feed, error) => {
      throw new Error(`${feed}: ${String(error)}`)
    },
  })
  return { clock, flushes, batcher }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

describe('feed batching windows', () => {
  it('a burst of 1,000 medium activities on one feed is one flush after 5 s', async () => {
    const { clock, flushes, batcher } = setup()
    for (let i = 0; i < 1000; i++) {
      batcher.schedule('user:ben', 'medium')
      clock.advance(4)
    }
    // The burst took 4 s: the first activity is due at 5 s.
    expect(flushes).toEqual([])
    clock.advance(1000)
    await settle()
    expect(flushes).toEqual([{ feed: 'user:ben', at: 5000 }])
  })

  it('high within 1 s, medium within 5 s, low within 15 s', async () => {
    const { clock, flushes, batcher } = setup()
    batcher.schedule('a', 'high')
    batcher.schedule('b', 'medium')
    batcher.schedule('c', 'low')
    clock.advance(20_000)
    await settle()
    expect(flushes).toEqual([
      { feed: 'a', at: 1000 },
      { feed: 'b', at: 5000 },
      { feed: 'c', at: 15_000 },
    ])
  })

  it('a higher priority brings a waiting batch forward, a lower one never delays it', async () => {
    const { clock, flushes, batcher } = setup()
    batcher.schedule('a', 'low')
    clock.advance(2000)
    batcher.schedule('a', 'high')
    batcher.schedule('a', 'low')
    clock.advance(10_000)
    await settle()
    expect(flushes).toEqual([{ feed: 'a', at: 3000 }])
  })

  it('takes configured windows, and drains everything at shutdown', async () => {
    const { clock, flushes, batcher } = setup({ high: 10, medium: 20, low: 30 })
    batcher.schedule('a', 'low')
    clock.advance(30)
    await settle()
    batcher.schedule('b', 'low')
    expect(batcher.pending).toBe(1)
    await batcher.drain()
    expect(flushes.map((f) => f.feed)).toEqual(['a', 'b'])
    expect(batcher.pending).toBe(0)
  })
})
