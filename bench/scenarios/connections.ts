/**
 * Connections: many concurrent connections over many documents (one full Yjs writer and light
 * readers per document), one comment per document per second. Connect time, server RSS per
 * connection, delivery latency and drops.
 */
import { assignments, connectFullClients, destroyAll } from '../lib/clients.ts'
import { Deliveries } from '../lib/deliveries.ts'
import { ProcessMonitor } from '../lib/proc.ts'
import { ReaderPool } from '../lib/reader-pool.ts'
import { distribution } from '../lib/stats.ts'
import type { RunContext, RunOutcome, Scenario, ScenarioParams } from '../lib/types.ts'
import { untilTime, waitUntil } from '../lib/wait.ts'

export interface ConnectionsParams extends ScenarioParams {
  /** All connections, writers included. */
  connections: number
  documents: number
  writesPerDocPerSec: number
  warmupMs: number
  bodyChars: number
}

/** How long deliveries may trail the last write. */
export const CONNECTIONS_DRAIN_MS = 15_000

const KB = 1024

const documentName = (d: number) => `comments/bench-conn-${d}`

async function run({ server, progress, deadline, readerThreads }: RunContext, params: ConnectionsParams): Promise<RunOutcome> {
  const { documents } = params
  const readersPerDoc = Math.max(0, Math.floor(params.connections / documents) - 1)
  const base = await server.probe('gc')
  const rampStart = performance.now()
  // The server's CPU over the ramp, per connection made: what a connect costs it, less noisy than the ramp's duration.
  const rampMonitor = new ProcessMonitor(server.pid)
  const writerSpecs = Array.from({ length: documents }, (_, d) => ({ documentName: documentName(d), userId: `writer-${d}` }))
  const writers = await connectFullClients(server, writerSpecs, progress)
  const readerSpecs = Array.from({ length: documents * readersPerDoc }, (_, i) => ({
    documentName: documentName(i % documents),
    userId: `reader-${i}`,
  }))
  const readers = new ReaderPool(readerThreads)
  try {
    const outcomes = await readers.connect(server.wsUrl, await assignments(server, readerSpecs), { progress, keepAlive: true })
    const rampMs = performance.now() - rampStart
    const ramp = rampMonitor.end()
    const connected = writers.clients.length + outcomes.filter((o) => o.ok).length
    progress.update('measuring memory')
    const loaded = await server.probe('gc')
    const recipients = new Map<string, number>()
    readerSpecs.forEach((spec, i) => {
      if (outcomes[i]?.ok) recipients.set(spec.documentName, (recipients.get(spec.documentName) ?? 0) + 1)
    })
    const connectTimes = [...outcomes.filter((o) => o.ok).map((o) => o.connectMs), ...writers.clients.map((w) => w.connectMs)]
    const notes = [
      ...writers.reasons,
      ...outcomes
        .filter((o) => !o.ok)
        .slice(0, 3)
        .map((o) => o.failure ?? 'failed'),
    ]

    const deliveries = new Deliveries()
    const periodMs = 1000 / params.writesPerDocPerSec
    const rounds = Math.floor((params.warmupMs + params.durationMs) / periodMs)
    const warmupRounds = Math.ceil(params.warmupMs / periodMs)
    const total = rounds * writers.clients.length
    const start = performance.now() + periodMs / 10
    let monitor: ProcessMonitor | undefined
    // Write k is writer k % n in round k / n, spread evenly over each period.
    for (let k = 0; k < total && performance.now() < deadline;) {
      await untilTime(start + (k * periodMs) / writers.clients.length)
      const now = performance.now()
      for (; k < total && start + (k * periodMs) / writers.clients.length <= now; k++) {
        const writer = writers.clients[k % writers.clients.length]
        if (!writer) continue
        const round = Math.floor(k / writers.clients.length)
        if (round === warmupRounds && !monitor) monitor = new ProcessMonitor(server.pid)
        const seq = deliveries.next()
        deliveries.sent(seq, recipients.get(writer.documentName) ?? 0, round >= warmupRounds, now)
        writer.write(`thread-${writer.userId}`, seq, params.bodyChars)
      }
      progress.update(`${connected} connections, write ${k}/${total}`)
    }
    const window = (monitor ?? new ProcessMonitor(server.pid)).end()
    progress.update('draining')
    let state = { dropped: 0, open: 0 }
    await waitUntil(
      async () => {
        state = await readers.drainInto(deliveries)
        return deliveries.complete()
      },
      Math.min(CONNECTIONS_DRAIN_MS, Math.max(0, deadline - performance.now())),
    )

    for (const line of deliveries.timeline()) console.error(`timeline: ${line}`)
    const totals = deliveries.totals()
    const latency = distribution(deliveries.latencies)
    const connect = distribution(connectTimes)
    const writerDrops = writers.clients.reduce((sum, w) => sum + w.disconnects, 0)
    const drops = totals.missing + state.dropped + (params.connections - connected) + writerDrops
    return {
      metrics: {
        connections: connected,
        connectP50: connect.p50,
        connectP95: connect.p95,
        rampSeconds: rampMs / 1000,
        connectCpuUs: connected === 0 ? 0 : (ramp.cpuPct * 1e4 * ramp.seconds) / connected,
        rssPerConnKB: (loaded.rssBytes - base.rssBytes) / connected / KB,
        serverRssMB: window.rssPeakMB,
        serverCpuPct: window.cpuPct,
        deliveryP50: latency.p50,
        deliveryP95: latency.p95,
        deliveryP99: latency.p99,
        drops,
      },
      checks: { sent: totals.sent, expected: totals.expected, received: totals.received, drops },
      notes,
    }
  } finally {
    await readers.terminate()
    destroyAll(writers.clients)
  }
}

export const connections: Scenario<ConnectionsParams> = {
  name: 'connections',
  title: 'Connections',
  description: 'Concurrent connections over many documents (one Yjs writer, light readers each), one comment per document per second.',
  sizes: {
    tiny: { connections: 24, documents: 4, writesPerDocPerSec: 2, warmupMs: 500, durationMs: 1_500, bodyChars: 120 },
    small: { connections: 1_000, documents: 100, writesPerDocPerSec: 1, warmupMs: 2_000, durationMs: 10_000, bodyChars: 120 },
    medium: { connections: 5_000, documents: 500, writesPerDocPerSec: 1, warmupMs: 2_000, durationMs: 15_000, bodyChars: 120 },
    large: { connections: 10_000, documents: 1_000, writesPerDocPerSec: 1, warmupMs: 2_000, durationMs: 20_000, bodyChars: 120 },
  },
  defaultSizes: ['large'],
  quickSizes: ['small'],
  overheadMs: (p) => 60_000 + p.warmupMs + CONNECTIONS_DRAIN_MS + p.connections * 10,
  metrics: [
    { key: 'connectP50', label: 'connect p50', unit: 'ms', better: 'lower' },
    { key: 'connectP95', label: 'connect p95', unit: 'ms', better: 'lower' },
    { key: 'rampSeconds', label: 'time to connect all', unit: 's', better: 'lower' },
    { key: 'connectCpuUs', label: 'server CPU per connect', unit: 'µs', better: 'lower' },
    { key: 'rssPerConnKB', label: 'RSS per connection', unit: 'KB', better: 'lower', primary: true },
    { key: 'serverRssMB', label: 'server RSS', unit: 'MB', better: 'lower' },
    { key: 'serverCpuPct', label: 'server CPU', unit: '%', better: 'lower' },
    { key: 'deliveryP50', label: 'delivery p50', unit: 'ms', better: 'lower' },
    { key: 'deliveryP95', label: 'delivery p95', unit: 'ms', better: 'lower', primary: true },
    { key: 'deliveryP99', label: 'delivery p99', unit: 'ms', better: 'lower' },
    { key: 'drops', label: 'drops', unit: 'count', better: 'lower' },
  ],
  run,
}
