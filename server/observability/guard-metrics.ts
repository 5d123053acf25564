/** Prometheus counters of the write guard: refusals by code, dropped awareness states, slow readers. */
import { Counter, type Registry } from 'prom-client'
import type { GuardMetrics } from '../../extensions/guard/index.ts'

export function createGuardMetrics(registry: Registry, hookError: (hook: string) => void): GuardMetrics {
  const rejected = new Counter({
    name: 'parley_guard_rejections_total',
    help: 'Updates and awareness messages the guard refused, by code',
    labelNames: ['code'],
    registers: [registry],
  })
  const awareness = new Counter({
    name: 'parley_guard_awareness_dropped_total',
    help: 'Awareness states dropped (not the sender’s own, or rate limited)',
    registers: [registry],
  })
  const slow = new Counter({ name: 'parley_slow_reader_closes_total', help: 'Sockets closed because their send buffer stayed too full', registers: [registry] })
  return {
    rejected: (code) => rejected.inc({ code }),
    awarenessDropped: (count) => awareness.inc(count),
    slowReaderClosed: () => slow.inc(),
    hookError,
  }
}
