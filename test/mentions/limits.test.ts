/**
 * Pure rules of the application bounds, in process with a fake clock: the mention limits (per
 * comment, per author per sliding minute, one log line per burst), the per-user REST bucket and
 * its Retry-After, and the directory's search keys, prefix ranges and handle claims.
 */
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { createUserRateLimiter, USER_REST_BURST, USER_REST_RATE_PER_SECOND } from '../../server/http/rate-limit.ts'
import {
  createMentionLimits,
  MAX_MENTION_NOTIFICATIONS_PER_AUTHOR_PER_MINUTE,
  MAX_MENTIONS_PER_COMMENT,
  MENTION_WINDOW_MS,
  type MentionDropReason,
} from '../../core/notifications/mention-limits.ts'
import { applyTokenProfile, prefixEnd, searchKeys } from '../../core/storage/user-directory.ts'

function clock(start = 1_000_000) {
  let now = start
  return { now: () => now, advance: (ms: number) => (now += ms) }
}

/** A pino logger that keeps its lines. */
function memoryLogger() {
  const lines: Array<Record<string, unknown>> = []
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) })
  return { logger, lines }
}

describe('mention limits', () => {
  it('defaults at or above the contract floors', () => {
    expect(MAX_MENTIONS_PER_COMMENT).toBeGreaterThanOrEqual(20)
    expect(MAX_MENTION_NOTIFICATIONS_PER_AUTHOR_PER_MINUTE).toBeGreaterThanOrEqual(60)
    expect(USER_REST_RATE_PER_SECOND).toBeGreaterThanOrEqual(20)
    expect(USER_REST_BURST).toBeGreaterThanOrEqual(50)
  })

  it('keeps the first distinct mentions of a comment and counts the rest, logged once per burst', () => {
    const { logger, lines } = memoryLogger()
    const dropped: Array<[MentionDropReason, number]> = []
    const time = clock()
    const limits = createMentionLimits({ logger, now: time.now, dropped: (reason, count) => dropped.push([reason, count]) })
    const ids = Array.from({ length: 1_000 }, (_, i) => `u${i}`)
    expect(limits.capComment('ana', ids.slice(0, 20), {})).toEqual(ids.slice(0, 20))
    expect(dropped).toEqual([])
    expect(limits.capComment('ana', ids, { commentId: 'c1' })).toEqual(ids.slice(0, 20))
    expect(limits.capComment('ana', ids, { commentId: 'c2' })).toEqual(ids.slice(0, 20))
    expect(dropped).toEqual([
      ['per_comment', 980],
      ['per_comment', 980],
    ])
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ authorId: 'ana', reason: 'per_comment', limit: 20, dropped: 980, commentId: 'c1' })
    // Another author's burst is its own; the same author is logged again once the interval is over.
    limits.capComment('ben', ids, {})
    expect(lines).toHaveLength(2)
    time.advance(MENTION_WINDOW_MS)
    limits.capComment('ana', ids, {})
    expect(lines).toHaveLength(3)
    expect(lines[2]).toMatchObject({ authorId: 'ana', droppedSinceLastLog: 980 })
  })

  it('allows an author 60 mention notifications in any sliding minute', () => {
    const { logger, lines } = memoryLogger()
    let capped = 0
    const time = clock()
    const limits = createMentionLimits({ logger, now: time.now, dropped: (_reason, count) => (capped += count) })
    for (let i = 0; i < 60; i++) {
      expect(limits.takeNotification('ana', {})).toBe(true)
      time.advance(500) // 60 in 30 s
    }
    expect(limits.takeNotification('ana', {})).toBe(false)
    expect(limits.takeNotification('ben', {})).toBe(true)
    for (let i = 0; i < 9; i++) expect(limits.takeNotification('ana', {})).toBe(false)
    expect(capped).toBe(10)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ authorId: 'ana', reason: 'per_author', limit: 60 })
    // The first one leaves the window 60 s after it was taken: one more fits, not two.
    time.advance(MENTION_WINDOW_MS - 30_000)
    expect(limits.takeNotification('ana', {})).toBe(true)
    expect(limits.takeNotification('ana', {})).toBe(false)
    time.advance(MENTION_WINDOW_MS)
    for (let i = 0; i < 60; i++) expect(limits.takeNotification('ana', {})).toBe(true)
    expect(limits.takeNotification('ana', {})).toBe(false)
  })

  it('honours smaller configured limits', () => {
    const limits = createMentionLimits({ perComment: 2, perAuthorPerMinute: 1, now: clock().now })
    expect(limits.capComment('a', ['x', 'y', 'z'], {})).toEqual(['x', 'y'])
    expect(limits.takeNotification('a', {})).toBe(true)
    expect(limits.takeNotification('a', {})).toBe(false)
  })
})

describe('per-user REST bucket', () => {
  it('lets a burst of 50 through, then 20 per second, answering the seconds to wait', () => {
    const time = clock()
    const limiter = createUserRateLimiter(undefined, time.now)
    for (let i = 0; i < 50; i++) expect(limiter.take('ana')).toEqual({ ok: true, value: undefined })
    expect(limiter.take('ana')).toEqual({ ok: false, error: { retryAfterSeconds: 1, ignoredRetryAfterMs: 0 } })
    expect(limiter.take('ben')).toEqual({ ok: true, value: undefined })
    time.advance(1_000)
    for (let i = 0; i < 20; i++) expect(limiter.take('ana')).toEqual({ ok: true, value: undefined })
    expect(limiter.take('ana').ok).toBe(false)
    time.advance(49)
    expect(limiter.take('ana').ok).toBe(false)
    time.advance(1)
    expect(limiter.take('ana')).toEqual({ ok: true, value: undefined })
  })

  it('answers Retry-After in whole seconds for a slow bucket, and forgets idle users', () => {
    const time = clock()
    const limiter = createUserRateLimiter({ perSecond: 0.25, burst: 1 }, time.now)
    expect(limiter.take('ana').ok).toBe(true)
    expect(limiter.take('ana')).toEqual({ ok: false, error: { retryAfterSeconds: 4, ignoredRetryAfterMs: 0 } })
    time.advance(1_000)
    // Asked again 1 s into a 4 s Retry-After: 3 s of it are left.
    expect(limiter.take('ana')).toEqual({ ok: false, error: { retryAfterSeconds: 3, ignoredRetryAfterMs: 3_000 } })
    expect(limiter.size).toBe(1)
    time.advance(120_000)
    limiter.take('ben')
    expect(limiter.size).toBe(1)
  })

  it('answers the first refusal of a streak at once and says how long the others may wait', () => {
    const time = clock()
    const limiter = createUserRateLimiter({ perSecond: 1, burst: 1 }, time.now)
    expect(limiter.take('ana').ok).toBe(true)
    expect(limiter.take('ana')).toEqual({ ok: false, error: { retryAfterSeconds: 1, ignoredRetryAfterMs: 0 } })
    expect(limiter.take('ana')).toMatchObject({ ok: false, error: { ignoredRetryAfterMs: 1_000 } })
    time.advance(250)
    expect(limiter.take('ana')).toMatchObject({ ok: false, error: { ignoredRetryAfterMs: 750 } })
    // Once the Retry-After is over, a token is back; a new streak starts fresh.
    time.advance(1_000)
    expect(limiter.take('ana').ok).toBe(true)
    expect(limiter.take('ana')).toMatchObject({ ok: false, error: { ignoredRetryAfterMs: 0 } })
  })
})

describe('directory rules', () => {
  it('indexes the handle, the name and the name from each word on', () => {
    expect(searchKeys('ana maría lopez', 'ana')).toEqual(['ana', 'ana maría lopez', 'maría lopez', 'lopez'])
    expect(searchKeys('  two  spaces ', null)).toEqual(['two  spaces ', 'spaces '])
    expect(searchKeys(null, null)).toEqual([])
    expect(searchKeys('', '')).toEqual([])
  })

  it('bounds a prefix by the next code point, skipping surrogates and the last code point', () => {
    expect(prefixEnd('ab')).toBe('ac')
    expect(prefixEnd('')).toBeNull()
    expect(prefixEnd('a\u{10FFFF}')).toBe('b')
    expect(prefixEnd('\u{10FFFF}')).toBeNull()
    expect(prefixEnd('a\uD7FF')).toBe('a\uE000')
    expect(prefixEnd('𝒜')).toBe('\u{1D49D}')
    // Everything that starts with the prefix sorts before the end (code point order).
    const byCodePoint = (a: string, b: string) => {
      const [x, y] = [Array.from(a), Array.from(b)]
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0)
        if (d !== 0) return d
      }
      return x.length - y.length
    }
    for (const key of ['zo', 'zoë', 'zo\u{10FFFF}x', 'zo\uFFFF']) expect(byCodePoint(key, prefixEnd('zo') ?? '')).toBeLessThan(0)
    expect(byCodePoint('zp', prefixEnd('zo') ?? '')).toBe(0)
  })

  it('lets a token fill in a profile, never over the backend, never with a held handle', () => {
    const token = { name: 'Mallory', handle: 'bob' }
    expect(applyTokenProfile(null, token, null, 'mallory')).toEqual({ name: 'Mallory', handle: 'bob', handleRefused: false, changed: true })
    expect(applyTokenProfile(null, token, 'bob', 'mallory')).toEqual({ name: 'Mallory', handle: null, handleRefused: true, changed: true })
    const held = { name: 'Mallory', handle: 'mal', profileFromBackend: false }
    expect(applyTokenProfile(held, token, 'bob', 'mallory')).toEqual({ name: 'Mallory', handle: 'mal', handleRefused: true, changed: false })
    expect(applyTokenProfile(held, { name: undefined, handle: 'MAL' }, 'mallory', 'mallory')).toEqual({
      name: 'Mallory',
      handle: 'MAL',
      handleRefused: false,
      changed: true,
    })
    const backend = { name: 'Bob', handle: 'bob', profileFromBackend: true }
    expect(applyTokenProfile(backend, { name: 'B', handle: 'other' }, null, 'bob')).toEqual({
      name: 'Bob',
      handle: 'bob',
      handleRefused: false,
      changed: false,
    })
  })
})
