/** Prometheus counters of the presence extension: coalesced windows, forwarded and absorbed states. */
import { Counter, type Registry } from 'prom-client'
import type { PresenceMetrics } from '../../extensions/presence/index.ts'

export function createPresenceMetrics(registry: Registry, hookError: (hook: string) => void): PresenceMetrics {
  const windows = new Counter({
    name: 'parley_presence_windows_total',
    help: 'Coalesced awareness windows sent (one frame per connection each)',
    registers: [registry],
  })
  const states = new Counter({
    name: 'parley_presence_states_forwarded_total',
    help: 'Awareness states forwarded in coalesced windows, by kind',
    labelNames: ['kind'],
    registers: [registry],
  })
  const absorbed = new Counter({
    name: 'parley_presence_heartbeats_absorbed_total',
    help: 'Unchanged awareness states not forwarded (renewed at most once per AWARENESS_RENEW_MS)',
    registers: [registry],
  })
  return {
    window(report) {
      windows.inc()
      if (report.states > 0) states.inc({ kind: 'state' }, report.states)
      if (report.removals > 0) states.inc({ kind: 'removal' }, report.removals)
    },
    absorbed: (count) => absorbed.inc(count),
    hookError,
  }
}
