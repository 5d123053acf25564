/**
 * Fan-out: one writer adds a schema-valid comment every `intervalMs` to one document read by
 * `readers` light clients (and a few full Yjs probes). Delivery latency from the writer's
 * transaction to each reader's arrival, server CPU and RSS.
 */
import { assignments, connectFullClients, destroyAll } from '../lib/clients.ts'
import { Deliveries } from '../lib/deliveries.ts'
import { ProcessMonitor } from '../lib/proc.ts'
import { ReaderPool } from '../lib/reader-pool.ts'
import { distribution } from '../lib/stats.ts'
import type { RunContext, RunOutcome, Scenario, ScenarioParams } from '../lib/types.ts'
import { untilTime, waitUntil } from '../lib/wait.ts'

export interface FanoutParams extends ScenarioParams {
  readers: number
  /** Full Yjs readers that also measure latency after applying the update. */
  probes: number
  intervalMs: number
  /** Writes before the measured part (not sampled, still checked). */
  warmupMs: number
  bodyChars: number
}

/** How long deliveries may trail the last write. */
export const FANOUT_DRAIN_MS = 10_000

const DOCUMENT = 'comments/bench-fanout'
const THREAD = 'bench-thread'

async function run({ server, progress, deadline, readerThreads }: RunContext, params: FanoutParams): Promise<RunOutcome> {
  const deliveries = new Deliveries()
  const readerSpecs = Array.from({ length: params.readers }, (_, i) => ({ documentName: DOCUMENT, userId: `reader-${i}` }))
  const probeSpecs = Array.from({ length: params.probes }, (_, i) => ({ documentName: DOCUMENT, userId: `probe-${i}` }))
  const writers = await connectFullClients(server, [{ documentName: DOCUMENT, userId: 'writer' }], progress)
  const probes = await connectFullClients(server, probeSpecs, progress, (seq, at) => deliveries.receiveProbe(seq, at))
  const readers = new ReaderPool(readerThreads)
  try {
    const outcomes = await readers.connect(server.wsUrl, await assignments(server, readerSpecs), { progress })
    const failed = outcomes.filter((o) => !o.ok)
    const notes = [...writers.reasons, ...probes.reasons, ...failed.slice(0, 3).map((o) => o.failure ?? 'failed')]
    const writer = writers.clients[0]
    if (!writer) throw new Error(`the writer could not connect: ${writers.reasons.join('; ')}`)
    const recipients = outcomes.length - failed.length

    const warmupWrites = Math.ceil(params.warmupMs / params.intervalMs)
    const writes = Math.floor(params.durationMs / params.intervalMs)
    const start = performance.now()
    let monitor: ProcessMonitor | undefined
    for (let i = 0; i < warmupWrites + writes && performance.now() < deadline; i++) {
      await untilTime(start + i * params.intervalMs)
      if (i === warmupWrites) monitor = new ProcessMonitor(server.pid)
      const seq = deliveries.next()
      deliveries.sent(seq, recipients, i >= warmupWrites)
      writer.write(THREAD, seq, params.bodyChars)
      progress.update(`${i < warmupWrites ? 'warming up' : 'writing'} ${i + 1}/${warmupWrites + writes} to ${recipients} readers`)
    }
    const window = (monitor ?? new ProcessMonitor(server.pid)).end()
    progress.update('draining')
    let state = { dropped: 0, open: 0 }
    await waitUntil(
      async () => {
        state = await readers.drainInto(deliveries)
        return deliveries.complete()
      },
      Math.min(FANOUT_DRAIN_MS, Math.max(0, deadline - performance.now())),
    )

    const totals = deliveries.totals()
    const latency = distribution(deliveries.latencies)
    const probe = distribution(deliveries.probeLatencies)
    const drops = totals.missing + state.dropped + failed.length + probes.failed
    return {
      metrics: {
        readers: recipients,
        deliveryP50: latency.p50,
        deliveryP95: latency.p95,
        deliveryP99: latency.p99,
        deliveryMax: latency.max,
        probeP95: probe.p95,
        serverCpuPct: window.cpuPct,
        serverRssMB: window.rssPeakMB,
        drops,
      },
      checks: { sent: totals.sent, expected: totals.expected, received: totals.received, drops },
      notes,
    }
  } finally {
    await readers.terminate()
    destroyAll([...probes.clients, ...writers.clients])
  }
}

export const fanout: Scenario<FanoutParams> = {
  name: 'fanout',
  title: 'Fan-out',
  description: 'One writer adds a comment every 100 ms to one document; N light readers timestamp each update on arrival.',
  sizes: {
    tiny: { readers: 5, probes: 1, intervalMs: 100, warmupMs: 200, durationMs: 1_000, bodyChars: 120 },
    small: { readers: 100, probes: 2, intervalMs: 100, warmupMs: 2_000, durationMs: 15_000, bodyChars: 120 },
    large: { readers: 1_000, probes: 3, intervalMs: 100, warmupMs: 2_000, durationMs: 15_000, bodyChars: 120 },
  },
  defaultSizes: ['small', 'large'],
  quickSizes: ['small', 'large'],
  overheadMs: (p) => 30_000 + p.warmupMs + FANOUT_DRAIN_MS + p.readers * 20,
  metrics: [
    { key: 'deliveryP50', label: 'delivery p50', unit: 'ms', better: 'lower' },
    { key: 'deliveryP95', label: 'delivery p95', unit: 'ms', better: 'lower', primary: true },
    { key: 'deliveryP99', label: 'delivery p99', unit: 'ms', better: 'lower' },
    { key: 'deliveryMax', label: 'delivery max', unit: 'ms', better: 'lower' },
    { key: 'probeP95', label: 'Yjs probe p95', unit: 'ms', better: 'lower' },
    { key: 'serverCpuPct', label: 'server CPU', unit: '%', better: 'lower' },
    { key: 'serverRssMB', label: 'server RSS', unit: 'MB', better: 'lower' },
    { key: 'drops', label: 'drops', unit: 'count', better: 'lower' },
  ],
  run,
}
