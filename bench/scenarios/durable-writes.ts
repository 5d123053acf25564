/**
 * Durable writes: writers on their own documents keep `window` comments in flight each and count
 * acknowledgements (Hocuspocus acknowledges an update once applied; Parley only once it is
 * appended to storage). Updates per second, acknowledgement latency, and for Parley the µs per
 * append from its own /metrics.
 */
import { connectFullClients, destroyAll } from '../lib/clients.ts'
import { scrapeMetrics } from '../lib/prometheus.ts'
import { ProcessMonitor } from '../lib/proc.ts'
import { Samples, distribution } from '../lib/stats.ts'
import type { RunContext, RunOutcome, Scenario, ScenarioParams } from '../lib/types.ts'
import { untilTime, waitFor, waitUntil } from '../lib/wait.ts'
import type { FullClient } from '../lib/writer.ts'

export interface DurableWritesParams extends ScenarioParams {
  writers: number
  /** Unacknowledged updates each writer keeps in flight. */
  window: number
  warmupMs: number
  bodyChars: number
}

/** How long acknowledgements may trail the last write. */
export const ACK_DRAIN_MS = 10_000

/** Parley's histogram of append times. */
const APPEND_METRIC = 'parley_storage_append_seconds'

interface Pump {
  writer: FullClient
  /** Send times of unacknowledged updates, oldest first. */
  inFlight: number[]
  acked: number
  /** Set while `fill` runs: a write emits events that would re-enter it. */
  filling: boolean
}

async function appendTotals(url: string): Promise<{ count: number; sum: number }> {
  const samples = await scrapeMetrics(url)
  return { count: samples.get(`${APPEND_METRIC}_count`) ?? Number.NaN, sum: samples.get(`${APPEND_METRIC}_sum`) ?? Number.NaN }
}

async function run({ server, progress, deadline }: RunContext, params: DurableWritesParams): Promise<RunOutcome> {
  const specs = Array.from({ length: params.writers }, (_, i) => ({ documentName: `comments/bench-durable-${i}`, userId: `writer-${i}` }))
  const connected = await connectFullClients(server, specs, progress)
  try {
    await waitFor(() => connected.clients.every((w) => w.unacknowledged === 0), 'writers settled after sync', 10_000)
    const latencies = new Samples()
    let measuring = false
    let writing = true
    let seq = 0
    let measuredAcks = 0
    const pumps: Pump[] = connected.clients.map((writer) => ({ writer, inFlight: [], acked: 0, filling: false }))
    const fill = (pump: Pump) => {
      if (pump.filling) return
      pump.filling = true
      while (writing && pump.inFlight.length < params.window) {
        pump.inFlight.push(performance.now())
        pump.writer.write(`thread-${pump.writer.userId}`, ++seq, params.bodyChars)
      }
      pump.filling = false
    }
    for (const pump of pumps) {
      pump.writer.provider.on('unsyncedChanges', ({ number }: { number: number }) => {
        const now = performance.now()
        while (pump.inFlight.length > number) {
          const sentAt = pump.inFlight.shift() ?? now
          pump.acked++
          if (measuring) {
            measuredAcks++
            latencies.add(now - sentAt)
          }
        }
        fill(pump)
      })
    }

    const start = performance.now()
    pumps.forEach(fill)
    progress.update(`warming up ${params.writers} writers`)
    await untilTime(Math.min(start + params.warmupMs, deadline))
    const isParley = server.kind === 'parley'
    const before = isParley ? await appendTotals(server.httpUrl) : undefined
    const monitor = new ProcessMonitor(server.pid)
    const measuredFrom = performance.now()
    measuring = true
    const end = Math.min(measuredFrom + params.durationMs, deadline)
    while (performance.now() < end) {
      progress.update(`${measuredAcks} acknowledged`)
      await untilTime(Math.min(end, performance.now() + 250))
    }
    measuring = false
    const seconds = (performance.now() - measuredFrom) / 1000
    const window = monitor.end()
    const after = isParley ? await appendTotals(server.httpUrl) : undefined
    writing = false
    progress.update('draining acknowledgements')
    const drained = await waitUntil(() => pumps.every((p) => p.inFlight.length === 0), ACK_DRAIN_MS)

    const appends = before && after ? after.count - before.count : Number.NaN
    const appendSeconds = before && after ? after.sum - before.sum : Number.NaN
    const latency = distribution(latencies)
    const missing = pumps.reduce((sum, p) => sum + p.inFlight.length, 0)
    const written = pumps.reduce((sum, p) => sum + p.acked, 0) + missing
    return {
      metrics: {
        updatesPerSec: measuredAcks / seconds,
        ackP50: latency.p50,
        ackP99: latency.p99,
        appendUs: (appendSeconds / appends) * 1e6,
        appendsPerSec: appends / seconds,
        serverCpuPct: window.cpuPct,
        drops: missing,
      },
      checks: { sent: written, expected: written, received: written - missing, drops: missing },
      notes: [...connected.reasons, ...(drained ? [] : [`${missing} updates never acknowledged`])],
    }
  } finally {
    destroyAll(connected.clients)
  }
}

export const durableWrites: Scenario<DurableWritesParams> = {
  name: 'durable-writes',
  title: 'Durable writes',
  description: 'Writers keep a few comments in flight each; acknowledged updates per second and (Parley) µs per storage append.',
  sizes: {
    tiny: { writers: 2, window: 2, warmupMs: 300, durationMs: 1_500, bodyChars: 120 },
    default: { writers: 8, window: 4, warmupMs: 2_000, durationMs: 10_000, bodyChars: 120 },
  },
  defaultSizes: ['default'],
  quickSizes: ['default'],
  overheadMs: (p) => 30_000 + p.warmupMs + ACK_DRAIN_MS,
  metrics: [
    { key: 'updatesPerSec', label: 'acknowledged updates', unit: '/s', better: 'higher', primary: true },
    { key: 'ackP50', label: 'acknowledgement p50', unit: 'ms', better: 'lower' },
    { key: 'ackP99', label: 'acknowledgement p99', unit: 'ms', better: 'lower' },
    { key: 'appendUs', label: 'µs per append', unit: 'µs', better: 'lower', primary: true, servers: ['parley'] },
    { key: 'appendsPerSec', label: 'appends', unit: '/s', better: 'higher', servers: ['parley'] },
    { key: 'serverCpuPct', label: 'server CPU', unit: '%', better: 'lower' },
    { key: 'drops', label: 'unacknowledged', unit: 'count', better: 'lower' },
  ],
  run,
}
