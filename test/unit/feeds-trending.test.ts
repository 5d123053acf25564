/** core/feeds/trending.ts: decayed comment velocity, maintained one comment at a time. */
import { describe, expect, it } from 'vitest'
import { bump, decay, scoreAt, type TrendState } from '../../core/feeds/trending.ts'
import { T0 } from './feeds-activity.ts'

const H = 60 * 60_000

function comments(subjectId: string, times: number[]): TrendState | null {
  let state: TrendState | null = null
  times.forEach((at, i) => (state = bump(state, subjectId, at, H, i === 0)))
  return state
}

describe('trending score', () => {
  it('halves per half-life', () => {
    expect(decay(8, T0, T0 + H, H)).toBeCloseTo(4)
    expect(decay(8, T0, T0 + 3 * H, H)).toBeCloseTo(1)
  })

  it('is the sum of each comment decayed to now, maintained incrementally', () => {
    const state = comments('s', [T0, T0 + H, T0 + 2 * H])!
    expect(scoreAt(state, T0 + 2 * H, H, H)).toBeCloseTo(0.25 + 0.5 + 1)
    expect(state.comments).toBe(3)
  })

  it('ranks recent velocity above old volume, in the same order as the scores at any instant', () => {
    const old = comments(
      'old',
      Array.from({ length: 10 }, (_, i) => T0 + i * 1000),
    )!
    const fresh = comments('fresh', [T0 + 5 * H, T0 + 5 * H + 1000])!
    const now = T0 + 5 * H + 2000
    expect(scoreAt(fresh, now, H, H)).toBeGreaterThan(scoreAt(old, now, H, H))
    expect(fresh.rank).toBeGreaterThan(old.rank)
  })

  it('rescored with another half-life from its recent buckets', () => {
    const state = comments('s', [T0, T0 + H])!
    const now = T0 + 2 * H
    const long = scoreAt(state, now, 10 * H, H)
    const short = scoreAt(state, now, H / 10, H)
    expect(long).toBeGreaterThan(1.5)
    expect(short).toBeLessThan(0.01)
  })

  it('counts comments arriving out of order at their own time', () => {
    const state = bump(bump(null, 's', T0 + H, H, true), 's', T0, H, false)
    expect(scoreAt(state, T0 + H, H, H)).toBeCloseTo(1.5)
  })
})
