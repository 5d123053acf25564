/**
 * Cluster: three Parley processes on one Redis and one PostgreSQL schema (bench/lib/cluster.ts).
 *
 * 1. Fan-out, spread vs single: one writer on instance 0 adds a comment every `intervalMs`; the
 *    `readers` light readers are either all on instance 0 (`single`) or spread round-robin over the
 *    three (`spread`, the others receive through Redis). Delivery p95 of each, their ratio, and the
 *    CPU of every instance in each layout.
 * 2. Redis restart: `documents` documents, each with a writer on one instance and a watcher on each
 *    of the two others, written every `documentIntervalMs` throughout. Redis is killed for
 *    `outageMs` and started again; convergence time is from its restart until every watcher has
 *    every comment written before it (writes go on meanwhile).
 *
 * The harness's own server (started for every scenario) stays idle here.
 */
import { assignments, connectFullClients, destroyAll } from '../lib/clients.ts'
import { startCluster, type Cluster } from '../lib/cluster.ts'
import { Deliveries } from '../lib/deliveries.ts'
import { ProcessMonitor } from '../lib/proc.ts'
import type { Progress } from '../lib/progress.ts'
import { ReaderPool } from '../lib/reader-pool.ts'
import { distribution } from '../lib/stats.ts'
import type { RunContext, RunMetrics, RunOutcome, Scenario, ScenarioParams } from '../lib/types.ts'
import { untilTime, waitUntil } from '../lib/wait.ts'
import type { FullClient } from '../lib/writer.ts'

export interface ClusterParams extends ScenarioParams {
  readers: number
  intervalMs: number
  warmupMs: number
  bodyChars: number
  documents: number
  documentIntervalMs: number
  outageMs: number
}

/** Instances in the cluster. */
const INSTANCES = 3
/** How long deliveries may trail the last write. */
const DRAIN_MS = 10_000
/** How long the documents may take to converge after Redis is back before the run says they did not. */
const CONVERGE_TIMEOUT_MS = 60_000
const THREAD = 'bench-thread'

interface FanoutResult {
  p95: number
  cpu: number[]
  drops: number
  sent: number
  expected: number
  received: number
}

async function fanout(cluster: Cluster, layout: 'single' | 'spread', params: ClusterParams, context: RunContext): Promise<FanoutResult> {
  const { progress, readerThreads } = context
  const documentName = `comments/bench-cluster-${layout}`
  const writerInstance = cluster.instances[0]!
  const deliveries = new Deliveries()
  const writers = await connectFullClients(writerInstance, [{ documentName, userId: 'writer' }], progress)
  const readers = new ReaderPool(readerThreads)
  try {
    let connected = 0
    let failed = 0
    for (const [i, instance] of cluster.instances.entries()) {
      const count = layout === 'single' ? (i === 0 ? params.readers : 0) : Math.floor(params.readers / INSTANCES) + (i < params.readers % INSTANCES ? 1 : 0)
      const specs = Array.from({ length: count }, (_, r) => ({ documentName, userId: `reader-${i}-${r}` }))
      const outcomes = await readers.connect(instance.wsUrl, await assignments(instance, specs), { progress })
      connected += outcomes.filter((o) => o.ok).length
      failed += outcomes.filter((o) => !o.ok).length
    }
    const writer = writers.clients[0]
    if (!writer) throw new Error(`the writer could not connect: ${writers.reasons.join('; ')}`)
    const warmupWrites = Math.ceil(params.warmupMs / params.intervalMs)
    const writes = Math.floor(params.durationMs / params.intervalMs)
    const start = performance.now()
    let monitors: ProcessMonitor[] | undefined
    for (let i = 0; i < warmupWrites + writes && performance.now() < context.deadline; i++) {
      await untilTime(start + i * params.intervalMs)
      if (i === warmupWrites) monitors = cluster.instances.map((instance) => new ProcessMonitor(instance.pid))
      const seq = deliveries.next()
      deliveries.sent(seq, connected, i >= warmupWrites)
      writer.write(THREAD, seq, params.bodyChars)
      progress.update(`${layout}: writing ${i + 1}/${warmupWrites + writes} to ${connected} readers`)
    }
    const cpu = (monitors ?? cluster.instances.map((instance) => new ProcessMonitor(instance.pid))).map((monitor) => monitor.end().cpuPct)
    let state = { dropped: 0, open: 0 }
    await waitUntil(async () => {
      state = await readers.drainInto(deliveries)
      return deliveries.complete()
    }, DRAIN_MS)
    const totals = deliveries.totals()
    return {
      p95: distribution(deliveries.latencies).p95,
      cpu,
      drops: totals.missing + state.dropped + failed,
      sent: totals.sent,
      expected: totals.expected,
      received: totals.received,
    }
  } finally {
    await readers.terminate()
    destroyAll(writers.clients)
  }
}

interface ConvergeResult {
  convergeMs: number
  written: number
  missing: number
}

async function convergence(cluster: Cluster, params: ClusterParams, progress: Progress): Promise<ConvergeResult> {
  const all: FullClient[] = []
  // received.get(document) holds, per watcher, the sequence numbers it has seen.
  const received = new Map<number, Array<Set<number>>>()
  const written = new Map<number, number[]>()
  try {
    const writers: FullClient[] = []
    for (let d = 0; d < params.documents; d++) {
      const documentName = `comments/bench-converge-${d}`
      const home = d % INSTANCES
      const seen: Array<Set<number>> = []
      received.set(d, seen)
      written.set(d, [])
      const writer = await connectFullClients(cluster.instances[home]!, [{ documentName, userId: `writer-${d}` }], progress)
      writers.push(...writer.clients)
      all.push(...writer.clients)
      for (let other = 1; other < INSTANCES; other++) {
        const set = new Set<number>()
        seen.push(set)
        const watcher = await connectFullClients(
          cluster.instances[(home + other) % INSTANCES]!,
          [{ documentName, userId: `watcher-${d}-${other}` }],
          progress,
          (seq) => set.add(seq),
        )
        all.push(...watcher.clients)
      }
      progress.update(`connecting documents ${d + 1}/${params.documents}`)
    }
    let seq = 0
    let writing = true
    const load = (async () => {
      const start = performance.now()
      const tick = params.documentIntervalMs / params.documents
      for (let i = 0; writing; i++) {
        await untilTime(start + i * tick)
        const d = i % params.documents
        const writer = writers[d]
        if (!writer) continue
        writer.write(THREAD, ++seq, params.bodyChars)
        written.get(d)?.push(seq)
      }
    })()
    try {
      await untilTime(performance.now() + params.warmupMs)
      progress.update('killing redis')
      await cluster.redis.kill()
      await untilTime(performance.now() + params.outageMs)
      await cluster.redis.restart()
      const restarted = performance.now()
      const before = new Map([...written].map(([d, seqs]) => [d, [...seqs]]))
      const missing = () => {
        let count = 0
        for (const [d, seqs] of before) for (const set of received.get(d) ?? []) for (const s of seqs) if (!set.has(s)) count++
        return count
      }
      progress.update('waiting for convergence')
      const converged = await waitUntil(() => missing() === 0, CONVERGE_TIMEOUT_MS)
      const convergeMs = converged ? performance.now() - restarted : Number.NaN
      return { convergeMs, written: [...before.values()].reduce((sum, seqs) => sum + seqs.length, 0), missing: missing() }
    } finally {
      writing = false
      await load
    }
  } finally {
    destroyAll(all)
  }
}

async function run(context: RunContext, params: ClusterParams): Promise<RunOutcome> {
  context.progress.update('starting redis, a schema and three instances')
  const cluster = await startCluster(INSTANCES)
  try {
    const single = await fanout(cluster, 'single', params, context)
    const spread = await fanout(cluster, 'spread', params, context)
    const converge = await convergence(cluster, params, context.progress)
    const metrics: RunMetrics = {
      singleP95: single.p95,
      spreadP95: spread.p95,
      spreadRatio: spread.p95 / single.p95,
      serverCpuPct: spread.cpu.reduce((sum, cpu) => sum + cpu, 0),
      convergeMs: converge.convergeMs,
      drops: single.drops + spread.drops + converge.missing,
    }
    for (let i = 0; i < INSTANCES; i++) {
      metrics[`singleCpu${i}`] = single.cpu[i] ?? Number.NaN
      metrics[`spreadCpu${i}`] = spread.cpu[i] ?? Number.NaN
    }
    const notes = [`${converge.written} comments written before Redis came back, over ${params.documents} documents`]
    if (Number.isNaN(converge.convergeMs))
      notes.push(`${converge.missing} comments had not reached every instance ${CONVERGE_TIMEOUT_MS} ms after Redis came back`)
    return {
      metrics,
      checks: {
        sent: single.sent + spread.sent + converge.written,
        expected: single.expected + spread.expected + converge.written * (INSTANCES - 1),
        received: single.received + spread.received + (converge.written * (INSTANCES - 1) - converge.missing),
        drops: metrics.drops ?? 0,
      },
      notes,
    }
  } finally {
    context.progress.update('stopping the cluster', true)
    await cluster.stop()
  }
}

const cpuMetrics = (layout: 'single' | 'spread') =>
  Array.from({ length: INSTANCES }, (_, i) => ({
    key: `${layout}Cpu${i}`,
    label: `${layout}: instance ${i} CPU`,
    unit: '%' as const,
    better: 'lower' as const,
  }))

export const cluster: Scenario<ClusterParams> = {
  name: 'cluster',
  title: 'Cluster (3 instances, Redis)',
  description:
    'Readers spread over 3 instances vs all on 1 with one writer (delivery p95 ratio, CPU per instance); then documents converging after Redis is killed and restarted under load.',
  sizes: {
    tiny: { readers: 30, intervalMs: 100, warmupMs: 500, durationMs: 2_000, bodyChars: 120, documents: 10, documentIntervalMs: 1_000, outageMs: 1_000 },
    small: { readers: 300, intervalMs: 100, warmupMs: 2_000, durationMs: 10_000, bodyChars: 120, documents: 30, documentIntervalMs: 1_000, outageMs: 2_000 },
    large: { readers: 1_000, intervalMs: 100, warmupMs: 2_000, durationMs: 15_000, bodyChars: 120, documents: 100, documentIntervalMs: 1_000, outageMs: 3_000 },
  },
  defaultSizes: ['large'],
  quickSizes: ['small'],
  optIn: true,
  runs: 1,
  servers: ['parley'],
  overheadMs: (p) => 60_000 + 2 * (p.warmupMs + DRAIN_MS + p.readers * 20) + p.documents * 300 + p.warmupMs + p.outageMs + CONVERGE_TIMEOUT_MS,
  metrics: [
    { key: 'singleP95', label: 'all readers on 1: delivery p95', unit: 'ms', better: 'lower' },
    { key: 'spreadP95', label: 'readers over 3: delivery p95', unit: 'ms', better: 'lower', primary: true },
    { key: 'spreadRatio', label: 'p95 ratio spread / single', unit: 'count', better: 'lower', primary: true },
    ...cpuMetrics('single'),
    ...cpuMetrics('spread'),
    { key: 'serverCpuPct', label: 'readers over 3: CPU of the 3 instances', unit: '%', better: 'lower' },
    { key: 'convergeMs', label: 'convergence after Redis restart', unit: 'ms', better: 'lower', primary: true },
    { key: 'drops', label: 'drops', unit: 'count', better: 'lower' },
  ],
  run,
}
