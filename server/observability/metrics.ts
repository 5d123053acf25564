/**
 * Prometheus metrics (prom-client), one registry per server so that several servers in one
 * process (tests, embedding) never share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { DurabilityMetrics } from '../../extensions/durability/index.ts'

export interface ParleyMetrics {
  readonly registry: Registry
  readonly durability: DurabilityMetrics
  authRefused(code: string): void
  hookError(hook: string): void
}

export interface MetricSources {
  connections(): number
  documents(): number
}

/** Buckets for storage operations, in seconds: 10 µs to 1 s. */
const STORAGE_BUCKETS = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1]

export function createMetrics(sources: MetricSources): ParleyMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'parley_' })
  new Gauge({ name: 'parley_connections', help: 'Open document connections', registers: [registry], collect() { this.set(sources.connections()) } })
  new Gauge({ name: 'parley_documents_loaded', help: 'Documents held in memory', registers: [registry], collect() { this.set(sources.documents()) } })
  const appendSeconds = new Histogram({ name: 'parley_storage_append_seconds', help: 'Time to append one update durably', buckets: STORAGE_BUCKETS, registers: [registry] })
  const appendBytes = new Counter({ name: 'parley_storage_appended_bytes_total', help: 'Bytes appended to document logs', registers: [registry] })
  const compactionSeconds = new Histogram({ name: 'parley_storage_compaction_seconds', help: 'Time to compact one document', buckets: STORAGE_BUCKETS, registers: [registry] })
  const storageErrors = new Counter({ name: 'parley_storage_errors_total', help: 'Failed storage operations', labelNames: ['operation'], registers: [registry] })
  const quarantined = new Counter({ name: 'parley_storage_quarantined_rows_total', help: 'Log rows that could not be applied and were set aside', registers: [registry] })
  const refused = new Counter({ name: 'parley_auth_refused_total', help: 'Connections refused at authentication', labelNames: ['code'], registers: [registry] })
  const hookErrors = new Counter({ name: 'parley_hook_errors_total', help: 'Errors caught in hooks that Hocuspocus does not await', labelNames: ['hook'], registers: [registry] })
  return {
    registry,
    durability: {
      observeAppend(seconds, bytes) {
        appendSeconds.observe(seconds)
        appendBytes.inc(bytes)
      },
      observeCompaction: (seconds) => compactionSeconds.observe(seconds),
      countError: (operation) => storageErrors.inc({ operation }),
      countQuarantined: () => quarantined.inc(),
    },
    authRefused: (code) => refused.inc({ code }),
    hookError: (hook) => hookErrors.inc({ hook }),
  }
}
