/**
 * Audiences: the feed list of an activity stored once, content-addressed, instead of in every
 * activity row. A comment in a subject with 10,000 followers names 10,000 feeds; the comments of a
 * burst share that list, so each is recorded with the list's id only, and the list is read (and
 * parsed) once per process while it stays in the cache. An id names one list forever, so the cache
 * never goes stale.
 */
import { createHash } from 'node:crypto'
import type { FeedActivity } from '../../core/feeds/aggregate.ts'

/** Activities with fewer feeds keep the list in their own row. */
export const AUDIENCE_MIN_FEEDS = 16

/**
 * Feed ids a store keeps parsed, over all cached audiences (least recently used leave first): every
 * subject with pending activity keeps its list while a page of pending activities is grouped (the
 * groups compare lists by identity), 100 subjects of 10,000 followers included.
 */
export const AUDIENCE_CACHE_FEEDS = 1_000_000

/** How an activity is stored: its row's JSON (without a shared list) and the audience it names. */
export interface StoredActivity {
  data: string
  audience: { id: string; feeds: readonly string[] } | null
}

export function audienceId(feeds: readonly string[]): string {
  return createHash('sha256').update(feeds.join('\n')).digest('base64url')
}

export class AudienceCache {
  private readonly lists = new Map<string, string[]>()
  private cachedFeeds = 0
  /** Ids of lists already hashed, by identity (the activities of a burst share one list). */
  private readonly ids = new WeakMap<readonly string[], string>()

  /** The activity as its row stores it; `audience` is null when the list stays in the row. */
  store(activity: FeedActivity): StoredActivity {
    if (activity.feeds.length < AUDIENCE_MIN_FEEDS) return { data: JSON.stringify(activity), audience: null }
    let id = this.ids.get(activity.feeds)
    if (id === undefined) {
      id = audienceId(activity.feeds)
      this.ids.set(activity.feeds, id)
    }
    return { data: JSON.stringify({ ...activity, feeds: [] }), audience: { id, feeds: activity.feeds } }
  }

  /** Whether this process stored or read the audience already (its row exists). */
  known(id: string): boolean {
    return this.lists.has(id)
  }

  remember(id: string, feeds: string[]): string[] {
    const previous = this.lists.get(id)
    if (previous) this.cachedFeeds -= previous.length
    this.lists.delete(id)
    this.lists.set(id, feeds)
    this.cachedFeeds += feeds.length
    for (const [oldest, list] of this.lists) {
      if (this.cachedFeeds <= AUDIENCE_CACHE_FEEDS || oldest === id) break
      this.lists.delete(oldest)
      this.cachedFeeds -= list.length
    }
    return feeds
  }

  /** The parsed list, when cached (moved to the most recent). */
  get(id: string): string[] | undefined {
    const feeds = this.lists.get(id)
    return feeds === undefined ? undefined : this.remember(id, feeds)
  }
}
