/**
 * Soak (opt-in, Parley only by default): `clients` connections over `documents` documents with
 * one comment per document per second for a long time. Every `rotateMs` all clients move to a
 * fresh set of documents (the old ones unload), so documents stay small and what grows is what
 * leaks: connection, document and hook state left behind. RSS is sampled after a forced GC.
 */
import { assignments, connectFullClients, destroyAll, type ConnectedClients } from '../lib/clients.ts'
import { Deliveries } from '../lib/deliveries.ts'
import { ProcessMonitor } from '../lib/proc.ts'
import { ReaderPool } from '../lib/reader-pool.ts'
import { distribution, median } from '../lib/stats.ts'
import type { RunContext, RunOutcome, Scenario, ScenarioParams } from '../lib/types.ts'
import { untilTime, waitUntil } from '../lib/wait.ts'

export interface SoakParams extends ScenarioParams {
  clients: number
  documents: number
  writesPerDocPerSec: number
  /** RSS before this is warm-up; growth is measured from the samples right after it. */
  warmupMs: number
  rotateMs: number
  sampleMs: number
  bodyChars: number
}

/** How long deliveries may trail the last write of a generation. */
const GENERATION_DRAIN_MS = 10_000

/** Samples (after warm-up, and at the end) whose median is compared. */
const SAMPLES_PER_END = 6

const MB = 1024 * 1024

interface Generation {
  writers: ConnectedClients
  readers: ReaderPool
  recipients: Map<string, number>
}

async function startGeneration(context: RunContext, params: SoakParams, g: number): Promise<Generation> {
  const { server, progress } = context
  const name = (d: number) => `comments/soak-g${g}-d${d}`
  const writers = await connectFullClients(
    server,
    Array.from({ length: params.documents }, (_, d) => ({ documentName: name(d), userId: `writer-${d}` })),
    progress,
  )
  const perDoc = Math.max(0, Math.floor(params.clients / params.documents) - 1)
  const specs = Array.from({ length: params.documents * perDoc }, (_, i) => ({ documentName: name(i % params.documents), userId: `reader-${i}` }))
  const readers = new ReaderPool(context.readerThreads)
  const outcomes = await readers.connect(server.wsUrl, await assignments(server, specs), { keepAlive: true })
  const recipients = new Map<string, number>()
  specs.forEach((spec, i) => {
    if (outcomes[i]?.ok) recipients.set(spec.documentName, (recipients.get(spec.documentName) ?? 0) + 1)
  })
  return { writers, readers, recipients }
}

async function run(context: RunContext, params: SoakParams): Promise<RunOutcome> {
  const { server, progress, deadline } = context
  const deliveries = new Deliveries()
  const samples: Array<{ at: number; rss: number; heap: number; heapTotal: number; external: number }> = []
  const start = performance.now()
  const end = Math.min(start + params.warmupMs + params.durationMs, deadline)
  const monitor = new ProcessMonitor(server.pid)
  let drops = 0
  let nextSample = start
  for (let g = 0; performance.now() < end; g++) {
    const generation = await startGeneration(context, params, g)
    const { writers } = generation
    drops += params.documents - writers.clients.length
    const until = Math.min(performance.now() + params.rotateMs, end)
    const periodMs = 1000 / params.writesPerDocPerSec
    const begin = performance.now()
    for (let k = 0; ; k++) {
      const due = begin + (k * periodMs) / Math.max(1, writers.clients.length)
      if (due >= until) break
      await untilTime(due)
      const writer = writers.clients[k % writers.clients.length]
      if (writer) {
        const seq = deliveries.next()
        deliveries.sent(seq, generation.recipients.get(writer.documentName) ?? 0, due >= start + params.warmupMs)
        writer.write(`thread-${writer.userId}`, seq, params.bodyChars)
      }
      if (performance.now() >= nextSample) {
        nextSample += params.sampleMs
        const probed = await server.probe('gc')
        samples.push({
          at: performance.now() - start,
          rss: probed.rssBytes,
          heap: probed.heapUsedBytes,
          heapTotal: probed.heapTotalBytes,
          external: probed.externalBytes,
        })
        const last = samples.at(-1)
        progress.update(`generation ${g}, ${Math.round((performance.now() - start) / 1000)} s, RSS ${((last?.rss ?? 0) / MB).toFixed(0)} MB`)
      }
    }
    await waitUntil(async () => {
      await generation.readers.drainInto(deliveries)
      return deliveries.complete()
    }, GENERATION_DRAIN_MS)
    const state = await generation.readers.drainInto(deliveries)
    drops += state.dropped + writers.clients.reduce((sum, w) => sum + w.disconnects, 0)
    await generation.readers.terminate()
    destroyAll(writers.clients)
  }
  const window = monitor.end()
  const afterWarmup = samples.filter((s) => s.at >= params.warmupMs).slice(0, SAMPLES_PER_END)
  const atEnd = samples.slice(-SAMPLES_PER_END)
  const rssWarm = median(afterWarmup.map((s) => s.rss)) / MB
  const rssEnd = median(atEnd.map((s) => s.rss)) / MB
  const heapWarm = median(afterWarmup.map((s) => s.heap)) / MB
  const heapEnd = median(atEnd.map((s) => s.heap)) / MB
  const totals = deliveries.totals()
  const latency = distribution(deliveries.latencies)
  return {
    metrics: {
      rssAfterWarmupMB: rssWarm,
      rssEndMB: rssEnd,
      rssGrowthPct: (100 * (rssEnd - rssWarm)) / rssWarm,
      rssPeakMB: window.rssPeakMB,
      heapAfterWarmupMB: heapWarm,
      heapEndMB: heapEnd,
      heapGrowthPct: (100 * (heapEnd - heapWarm)) / heapWarm,
      serverCpuPct: window.cpuPct,
      deliveryP95: latency.p95,
      drops: drops + totals.missing,
    },
    checks: { sent: totals.sent, expected: totals.expected, received: totals.received, drops: drops + totals.missing },
    notes: [
      `RSS samples (MB): ${samples.map((s) => `${Math.round(s.at / 1000)}s=${(s.rss / MB).toFixed(1)}`).join(' ')}`,
      `JS heap samples (MB, after GC): ${samples.map((s) => `${Math.round(s.at / 1000)}s=${(s.heap / MB).toFixed(1)}`).join(' ')}`,
      // What RSS holds besides the heap in use: V8's reserved heap and memory owned by JS objects (Buffers).
      `JS heap held by V8 / external samples (MB): ${samples
        .map((s) => `${Math.round(s.at / 1000)}s=${(s.heapTotal / MB).toFixed(1)}/${(s.external / MB).toFixed(1)}`)
        .join(' ')}`,
    ],
  }
}

export const soak: Scenario<SoakParams> = {
  name: 'soak',
  title: 'Soak',
  description: 'Hours-long style steady load with document rotation; RSS growth after warm-up.',
  optIn: true,
  runs: 1,
  servers: ['parley'],
  sizes: {
    tiny: { clients: 20, documents: 4, writesPerDocPerSec: 2, warmupMs: 1_000, durationMs: 3_000, rotateMs: 2_000, sampleMs: 500, bodyChars: 120 },
    short: { clients: 1_000, documents: 100, writesPerDocPerSec: 1, warmupMs: 60_000, durationMs: 240_000, rotateMs: 60_000, sampleMs: 10_000, bodyChars: 120 },
    default: {
      clients: 1_000,
      documents: 100,
      writesPerDocPerSec: 1,
      warmupMs: 300_000,
      durationMs: 1_500_000,
      rotateMs: 120_000,
      sampleMs: 10_000,
      bodyChars: 120,
    },
  },
  defaultSizes: ['default'],
  quickSizes: ['short'],
  overheadMs: (p) => 120_000 + p.warmupMs + Math.ceil((p.warmupMs + p.durationMs) / p.rotateMs) * GENERATION_DRAIN_MS,
  metrics: [
    { key: 'rssAfterWarmupMB', label: 'RSS after warm-up', unit: 'MB', better: 'lower' },
    { key: 'rssEndMB', label: 'RSS at the end', unit: 'MB', better: 'lower' },
    { key: 'rssGrowthPct', label: 'RSS growth', unit: '%', better: 'lower', primary: true },
    { key: 'rssPeakMB', label: 'peak RSS', unit: 'MB', better: 'lower' },
    { key: 'heapAfterWarmupMB', label: 'JS heap after warm-up', unit: 'MB', better: 'lower' },
    { key: 'heapEndMB', label: 'JS heap at the end', unit: 'MB', better: 'lower' },
    { key: 'heapGrowthPct', label: 'JS heap growth', unit: '%', better: 'lower' },
    { key: 'serverCpuPct', label: 'server CPU', unit: '%', better: 'lower' },
    { key: 'deliveryP95', label: 'delivery p95', unit: 'ms', better: 'lower' },
    { key: 'drops', label: 'drops', unit: 'count', better: 'lower' },
  ],
  run,
}
