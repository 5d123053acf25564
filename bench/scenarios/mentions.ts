/**
 * Mentions: authors on `documents` documents write comments that mention readers, `rate` per
 * second in all; each reader has its inbox document open with @hocuspocus/provider. Latency from
 * the author's write to the reader's client seeing the inbox entry, and (from Parley's /metrics)
 * the detection cost per update: the synchronous diff reading, and the asynchronous recording
 * (handle resolution, access, one storage transaction).
 */
import * as Y from 'yjs'
import { createThread, INBOX_NOTIFICATIONS, reply } from '../../protocol/index.ts'
import { parseExposition, total } from '../lib/prometheus.ts'
import { connectProvider as connect, destroyProviders as destroy } from '../lib/provider-client.ts'
import { ProcessMonitor } from '../lib/proc.ts'
import { Samples, distribution } from '../lib/stats.ts'
import type { RunContext, RunOutcome, Scenario, ScenarioParams } from '../lib/types.ts'
import { pool, untilTime, waitUntil } from '../lib/wait.ts'

export interface MentionsParams extends ScenarioParams {
  documents: number
  readers: number
  /** Mentions per second, over all documents. */
  rate: number
  warmupMs: number
}

/** How long inbox entries may trail the last mention. */
export const MENTIONS_DRAIN_MS = 10_000

/** Clients connecting at once. */
const CONNECT_CONCURRENCY = 25

const DETECTION = 'parley_mention_detection_seconds'
const SEQ = /^m(\d+) /

async function detectionTotals(httpUrl: string): Promise<Record<'diffSum' | 'diffCount' | 'recordSum' | 'recordCount', number>> {
  const exposition = parseExposition(await (await fetch(`${httpUrl}/metrics`)).text())
  return {
    diffSum: total(exposition, `${DETECTION}_sum`, { phase: 'diff' }),
    diffCount: total(exposition, `${DETECTION}_count`, { phase: 'diff' }),
    recordSum: total(exposition, `${DETECTION}_sum`, { phase: 'record' }),
    recordCount: total(exposition, `${DETECTION}_count`, { phase: 'record' }),
  }
}

async function run({ server, progress, deadline }: RunContext, params: MentionsParams): Promise<RunOutcome> {
  const sentAt = new Map<number, number>()
  const seen = new Set<number>()
  const latencies = new Samples()
  let measureFrom = Number.POSITIVE_INFINITY
  const readers = await pool(
    Array.from({ length: params.readers }, (_, i) => i),
    CONNECT_CONCURRENCY,
    async (i) => {
      const client = await connect(server.wsUrl, `inbox/reader-${i}`, await server.token(`reader-${i}`))
      const notifications = client.doc.getMap(INBOX_NOTIFICATIONS)
      client.doc.on('update', () => {
        const now = performance.now()
        for (const entry of notifications.values()) {
          const match = entry instanceof Y.Map ? SEQ.exec(String(entry.get('preview'))) : null
          const seq = match ? Number(match[1]) : Number.NaN
          if (!sentAt.has(seq) || seen.has(seq)) continue
          seen.add(seq)
          const at = sentAt.get(seq) ?? now
          if (at >= measureFrom) latencies.add(now - at)
        }
      })
      return client
    },
  )
  const authors = await pool(
    Array.from({ length: params.documents }, (_, i) => i),
    CONNECT_CONCURRENCY,
    async (i) => {
      const client = await connect(server.wsUrl, `comments/bench-mentions-${i}`, await server.token(`author-${i}`))
      return { client, threadId: createThread({ doc: client.doc, userId: `author-${i}` }, 'bench thread').threadId }
    },
  )
  const connected = [...readers, ...authors].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const clients = connected.map((c) => ('client' in c ? c.client : c))
  try {
    const failed = [...readers, ...authors].filter((r) => r.status === 'rejected')
    if (failed.length > 0) throw new Error(`${failed.length} clients could not connect`)
    const writers = authors.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    const interval = 1000 / params.rate
    const warmup = Math.ceil(params.warmupMs / interval)
    const total = warmup + Math.floor((params.durationMs / 1000) * params.rate)
    const start = performance.now()
    let monitor: ProcessMonitor | undefined
    let before: Awaited<ReturnType<typeof detectionTotals>> | undefined
    let sent = 0
    for (let seq = 0; seq < total && performance.now() < deadline; seq++) {
      await untilTime(start + seq * interval)
      if (seq === warmup) {
        before = await detectionTotals(server.httpUrl)
        monitor = new ProcessMonitor(server.pid)
        measureFrom = performance.now()
      }
      const writer = writers[seq % writers.length]
      if (!writer) break
      const recipient = `reader-${(seq * 7) % params.readers}`
      sentAt.set(seq, performance.now())
      reply({ doc: writer.client.doc, userId: `author-${seq % writers.length}` }, writer.threadId, [
        { text: `m${seq} ` },
        { text: `@${recipient}`, mention: recipient },
      ])
      sent++
      if (seq % 50 === 0) progress.update(`${seq < warmup ? 'warming up' : 'mentioning'} ${seq + 1}/${total}`)
    }
    const window = (monitor ?? new ProcessMonitor(server.pid)).end()
    progress.update('draining')
    await waitUntil(() => seen.size >= sent, Math.min(MENTIONS_DRAIN_MS, Math.max(0, deadline - performance.now())))
    const after = await detectionTotals(server.httpUrl)
    const b = before ?? { diffSum: 0, diffCount: 0, recordSum: 0, recordCount: 0 }
    const latency = distribution(latencies)
    const missing = sent - seen.size
    return {
      metrics: {
        mentionsPerSec: params.rate,
        inboxP50: latency.p50,
        inboxP95: latency.p95,
        inboxP99: latency.p99,
        inboxMax: latency.max,
        diffUs: ((after.diffSum - b.diffSum) / (after.diffCount - b.diffCount)) * 1e6,
        recordUs: ((after.recordSum - b.recordSum) / (after.recordCount - b.recordCount)) * 1e6,
        serverCpuPct: window.cpuPct,
        drops: missing,
      },
      checks: { sent, expected: sent, received: seen.size, drops: missing },
      notes: missing > 0 ? [`${missing} mentions never reached an inbox`] : [],
    }
  } finally {
    destroy(clients)
  }
}

export const mentions: Scenario<MentionsParams> = {
  name: 'mentions',
  title: 'Mentions to inbox',
  description: 'Authors on N documents mention readers at a fixed rate; latency from the write to the reader’s inbox document, and detection cost per update.',
  sizes: {
    tiny: { documents: 4, readers: 4, rate: 20, warmupMs: 200, durationMs: 1_000 },
    default: { documents: 50, readers: 50, rate: 100, warmupMs: 2_000, durationMs: 15_000 },
  },
  defaultSizes: ['default'],
  quickSizes: ['default'],
  servers: ['parley'],
  overheadMs: (p) => 30_000 + p.warmupMs + MENTIONS_DRAIN_MS,
  metrics: [
    { key: 'inboxP50', label: 'write to inbox p50', unit: 'ms', better: 'lower' },
    { key: 'inboxP95', label: 'write to inbox p95', unit: 'ms', better: 'lower', primary: true },
    { key: 'inboxP99', label: 'write to inbox p99', unit: 'ms', better: 'lower' },
    { key: 'inboxMax', label: 'write to inbox max', unit: 'ms', better: 'lower' },
    { key: 'diffUs', label: 'diff per update', unit: 'µs', better: 'lower', primary: true },
    { key: 'recordUs', label: 'detection and recording per write', unit: 'µs', better: 'lower' },
    { key: 'mentionsPerSec', label: 'mentions', unit: '/s', better: 'higher' },
    { key: 'serverCpuPct', label: 'server CPU', unit: '%', better: 'lower' },
    { key: 'drops', label: 'missing', unit: 'count', better: 'lower' },
  ],
  run,
}
