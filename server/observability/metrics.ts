/**
 * Prometheus metrics (prom-client), one registry per server so that several servers in one
 * process (tests, embedding) never share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { DurabilityMetrics } from '../../extensions/durability/index.ts'
import type { TrafficMetrics } from '../../extensions/metrics/index.ts'
import type { HookMetrics } from './hooks.ts'

export interface ParleyMetrics {
  readonly registry: Registry
  readonly durability: DurabilityMetrics
  /** For extensions/metrics: messages in, broadcasts out, update sizes. */
  readonly traffic: TrafficMetrics
  /** For observability/hooks.ts: hook durations and slow hooks. */
  readonly hooks: HookMetrics
  authRefused(code: string): void
  hookError(hook: string): void
}

export interface MetricSources {
  connections(): number
  documents(): number
}

/** Buckets for storage operations, in seconds: 10 µs to 1 s. */
const STORAGE_BUCKETS = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1]

/** Buckets for broadcasts and hooks, in seconds: 10 µs to 10 s. */
const LATENCY_BUCKETS = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]

/** Buckets for update sizes, in bytes: 64 B to 4 MiB. */
const SIZE_BUCKETS = [64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304]

function createTrafficMetrics(registry: Registry, hookErrors: Counter<'hook'>): TrafficMetrics {
  const messagesIn = new Counter({
    name: 'parley_messages_in_total',
    help: 'Messages received on document connections, by type',
    labelNames: ['type'],
    registers: [registry],
  })
  const bytesIn = new Counter({ name: 'parley_message_in_bytes_total', help: 'Bytes of messages received on document connections', registers: [registry] })
  const messagesOut = new Counter({
    name: 'parley_messages_out_total',
    help: 'Messages sent by document broadcasts, by kind',
    labelNames: ['kind'],
    registers: [registry],
  })
  const broadcastSeconds = new Histogram({
    name: 'parley_broadcast_seconds',
    help: 'Time to encode and send one broadcast to every connection of a document',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  })
  const updateBytes = new Histogram({
    name: 'parley_update_bytes',
    help: 'Size of Yjs updates applied to documents',
    buckets: SIZE_BUCKETS,
    registers: [registry],
  })
  return {
    messageIn(type, bytes) {
      messagesIn.inc({ type })
      bytesIn.inc(bytes)
    },
    broadcastSent: (kind, recipients) => messagesOut.inc({ kind }, recipients),
    broadcastTime: (seconds) => broadcastSeconds.observe(seconds),
    updateApplied: (bytes) => updateBytes.observe(bytes),
    hookError: (hook) => hookErrors.inc({ hook }),
  }
}

function createHookMetrics(registry: Registry): HookMetrics {
  const hookSeconds = new Histogram({
    name: 'parley_hook_duration_seconds',
    help: 'Time spent in one extension hook call',
    labelNames: ['extension', 'hook'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  })
  const slowHooks = new Counter({
    name: 'parley_slow_hooks_total',
    help: 'Hook calls slower than SLOW_HOOK_MS',
    labelNames: ['extension', 'hook'],
    registers: [registry],
  })
  return {
    observerFor(extension, hook) {
      // Children bound to their labels once: no labels object per call.
      const seconds = hookSeconds.labels(extension, hook)
      const slow = slowHooks.labels(extension, hook)
      return { observe: (value) => seconds.observe(value), slow: () => slow.inc() }
    },
  }
}

export function createMetrics(sources: MetricSources): ParleyMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'parley_' })
  new Gauge({
    name: 'parley_connections',
    help: 'Open document connections',
    registers: [registry],
    collect() {
      this.set(sources.connections())
    },
  })
  new Gauge({
    name: 'parley_documents_loaded',
    help: 'Documents held in memory',
    registers: [registry],
    collect() {
      this.set(sources.documents())
    },
  })
  const appendSeconds = new Histogram({
    name: 'parley_storage_append_seconds',
    help: 'Time to append one update durably',
    buckets: STORAGE_BUCKETS,
    registers: [registry],
  })
  const appendBytes = new Counter({ name: 'parley_storage_appended_bytes_total', help: 'Bytes appended to document logs', registers: [registry] })
  const compactionSeconds = new Histogram({
    name: 'parley_storage_compaction_seconds',
    help: 'Time to compact one document',
    buckets: STORAGE_BUCKETS,
    registers: [registry],
  })
  const storageErrors = new Counter({
    name: 'parley_storage_errors_total',
    help: 'Failed storage operations',
    labelNames: ['operation'],
    registers: [registry],
  })
  const quarantined = new Counter({
    name: 'parley_storage_quarantined_rows_total',
    help: 'Log rows that could not be applied and were set aside',
    registers: [registry],
  })
  const refused = new Counter({ name: 'parley_auth_refused_total', help: 'Connections refused at authentication', labelNames: ['code'], registers: [registry] })
  const hookErrors = new Counter({
    name: 'parley_hook_errors_total',
    help: 'Errors caught in hooks that Hocuspocus does not await',
    labelNames: ['hook'],
    registers: [registry],
  })
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
    traffic: createTrafficMetrics(registry, hookErrors),
    hooks: createHookMetrics(registry),
    authRefused: (code) => refused.inc({ code }),
    hookError: (hook) => hookErrors.inc({ hook }),
  }
}
