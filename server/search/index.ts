/**
 * Comment search, composed (issue 20): the indexing extension with its Prometheus metrics, and the
 * startup sweep that indexes documents a crash left behind. server/server.ts creates it before
 * Hocuspocus (the extension goes into Hocuspocus) and starts it once the server listens.
 */
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { Histogram, type Registry } from 'prom-client'
import { Search, type SearchIndexingConfiguration } from '../../extensions/search/index.ts'
import type { Storage } from '../../core/storage/types.ts'

/** Buckets for one index write, in seconds: 100 µs to 5 s. */
const FLUSH_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]

/** Buckets for the synchronous diff reading, in seconds: 1 µs to 10 ms. */
const DIFF_BUCKETS = [0.000001, 0.000005, 0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01]

export interface SearchIndexingOptions {
  storage: Storage
  logger: Logger
  registry: Registry
  hookError(hook: string): void
  /** The Hocuspocus instance, once created. */
  hocuspocus(): Hocuspocus
  /** Indexing settings (tests, benchmarks). */
  indexing?: Partial<Pick<SearchIndexingConfiguration, 'flushMs'>> | undefined
}

export interface SearchIndexing {
  readonly extension: Search
  /** Indexes, in the background, the documents written since their last indexing. */
  start(): void
  /** Resolves once the startup sweep is over. */
  close(): Promise<void>
}

export function createSearchIndexing(options: SearchIndexingOptions): SearchIndexing {
  const { storage, logger } = options
  const flushes = new Histogram({
    name: 'parley_search_index_write_seconds',
    help: 'One batched write of changed comments into the search index',
    buckets: FLUSH_BUCKETS,
    registers: [options.registry],
  })
  const diffs = new Histogram({
    name: 'parley_search_diff_seconds',
    help: 'Search indexing inside one transaction (synchronous, on the writer’s path): reading which comments it touched',
    buckets: DIFF_BUCKETS,
    registers: [options.registry],
  })
  const extension = new Search({
    ...options.indexing,
    storage,
    logger,
    metrics: { hookError: options.hookError, observeFlush: (_entries, seconds) => flushes.observe(seconds), observeDiff: (seconds) => diffs.observe(seconds) },
  })
  let sweeping: Promise<unknown> = Promise.resolve()
  return {
    extension,
    start() {
      sweeping = extension.sweep(options.hocuspocus()).catch((error: unknown) => {
        options.hookError('search-sweep')
        logger.error({ err: error }, 'the startup search indexing could not list documents')
      })
    },
    async close() {
      await sweeping
    },
  }
}
