/** server/storage/feed-audiences.ts: long feed lists stored once by id, and the bounded cache of parsed lists. */
import { describe, expect, it } from 'vitest'
import { AUDIENCE_CACHE_FEEDS, AUDIENCE_MIN_FEEDS, AudienceCache, audienceId } from '../../server/storage/feed-audiences.ts'
import { activity, T0 } from './feeds-activity.ts'

const list = (prefix: string, length: number) => Array.from({ length }, (_, i) => `user:${prefix}${i}`)

describe('feed audiences', () => {
  it('keeps short lists in the row and names long ones by their content', () => {
    const cache = new AudienceCache()
    const short = activity('ana', T0, { feeds: list('a', AUDIENCE_MIN_FEEDS - 1) })
    expect(cache.store(short)).toEqual({ data: JSON.stringify(short), audience: null })
    const feeds = list('a', AUDIENCE_MIN_FEEDS)
    const long = cache.store(activity('ana', T0, { feeds }))
    expect(long.audience).toEqual({ id: audienceId(feeds), feeds })
    expect(JSON.parse(long.data)).toMatchObject({ feeds: [] })
    expect(cache.store(activity('ben', T0, { feeds: [...feeds] })).audience?.id).toBe(long.audience?.id)
  })

  it('hands out one array per cached list, and drops the least recently used beyond the bound', () => {
    const cache = new AudienceCache()
    const half = AUDIENCE_CACHE_FEEDS / 2
    const first = cache.remember('first', list('f', half))
    cache.remember('second', list('s', half))
    expect(cache.get('first')).toBe(first)
    cache.remember('third', list('t', 1))
    // "second" was used least recently: it leaves; "first" (read since) stays.
    expect(cache.known('second')).toBe(false)
    expect(cache.get('first')).toBe(first)
    expect(cache.known('third')).toBe(true)
  })
})
