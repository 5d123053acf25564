/**
 * Writes feed documents from storage: when a feed's batch is due, and when a client opens the
 * feed. Only documents loaded on this instance are written (a feed nobody has open is projected
 * from storage when it loads), each through a direct connection, in one transaction that makes the
 * document hold the latest `limit` items. Writes of one feed run one after the other; with several
 * instances, a write first takes the feed's lock (`lock`), so that two instances with the feed
 * loaded never write it at once (a held lock is tried again after `lockRetryMs`).
 */
import type { Hocuspocus } from '@hocuspocus/server'
import { setTimeout as delay } from 'node:timers/promises'
import { feedDocumentName } from '../../protocol/index.ts'
import type { FeedStore } from '../storage/feed-types.ts'
import { projectFeed } from './document.ts'

/** Default items a feed document keeps (`PARLEY_FEED_LIMIT`). */
export const DEFAULT_FEED_LIMIT = 200

/** Context of the feed writer's own direct connections (the feeds extension skips its load-time sync for them). */
export const FEED_WRITER_CONTEXT = { parleyFeedWriter: true } as const

type DirectConnection = Awaited<ReturnType<Hocuspocus['openDirectConnection']>>

export interface FeedWriterOptions {
  store: FeedStore
  limit: number
  /** Whether the document is loaded on this instance. */
  isLoaded(documentName: string): boolean
  open(documentName: string, context: Record<string, unknown>): Promise<DirectConnection>
  /** Called after each written batch (metrics, bench). */
  written?(feedId: string, changes: number): void
  /** The feed's write lock across instances: its release, or null while another instance holds it. */
  lock?(feedId: string): Promise<(() => Promise<void>) | null>
  /** Wait before trying a held lock again (ms). */
  lockRetryMs?: number
}

/** Attempts at a held lock before the write is given up (storage keeps the items; the next batch or load shows them). */
export const MAX_LOCK_ATTEMPTS = 100

export interface FeedWriter {
  /** Makes the loaded feed document hold the latest items; nothing when it is not loaded (and `force` is off). */
  write(feedId: string, force?: boolean): Promise<void>
}

export function isFeedWriterContext(context: unknown): boolean {
  return typeof context === 'object' && context !== null && 'parleyFeedWriter' in context && context.parleyFeedWriter === true
}

export function createFeedWriter(options: FeedWriterOptions): FeedWriter {
  const chains = new Map<string, Promise<void>>()
  const writeNow = async (feedId: string, force: boolean) => {
    const name = feedDocumentName(feedId)
    if (!force && !options.isLoaded(name)) return
    const release = await locked(feedId)
    try {
      await project(feedId, name)
    } finally {
      await release?.()
    }
  }
  const locked = async (feedId: string): Promise<(() => Promise<void>) | null> => {
    if (!options.lock) return null
    for (let attempt = 0; attempt < MAX_LOCK_ATTEMPTS; attempt++) {
      const release = await options.lock(feedId)
      if (release) return release
      await delay(options.lockRetryMs ?? 0)
    }
    throw new Error(`the write lock of feed ${feedId} stayed held by another instance`)
  }
  const project = async (feedId: string, name: string) => {
    const latest = await options.store.list(feedId, { limit: options.limit, after: null })
    const connection = await options.open(name, { ...FEED_WRITER_CONTEXT })
    try {
      let changes = 0
      await connection.transact((doc) => {
        changes = projectFeed(doc, latest)
      })
      options.written?.(feedId, changes)
    } finally {
      await connection.disconnect()
    }
  }
  return {
    write(feedId, force = false) {
      const previous = chains.get(feedId) ?? Promise.resolve()
      const next = previous.catch(() => undefined).then(() => writeNow(feedId, force))
      chains.set(feedId, next)
      void next
        .catch(() => undefined)
        .then(() => {
          if (chains.get(feedId) === next) chains.delete(feedId)
        })
      return next
    },
  }
}
