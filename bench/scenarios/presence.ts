/**
 * Presence: a room of `clients` light clients in one document, each sending its awareness state
 * and a heartbeat (the unchanged state) every `heartbeatMs`, `typists` of them typing once per
 * `typingMs`. Measures server CPU, awareness frames each reader receives per second, how long
 * probe readers take to see typing, and whether every typist's final state arrives.
 * Targets (issue #8): CPU ≤ half of plain Hocuspocus's, ≤ 10 frames per reader per second,
 * typing p95 ≤ 300 ms, no final state lost.
 */
import { PresenceClient, type BenchState } from '../lib/presence-client.ts'
import { PresencePool } from '../lib/presence-pool.ts'
import { ProcessMonitor } from '../lib/proc.ts'
import { distribution } from '../lib/stats.ts'
import type { RunContext, RunOutcome, Scenario, ScenarioParams } from '../lib/types.ts'
import { untilTime, waitUntil } from '../lib/wait.ts'

export interface PresenceParams extends ScenarioParams {
  clients: number
  typists: number
  /** Decoding readers (extra clients) that measure typing latency and check final states. */
  probes: number
  heartbeatMs: number
  typingMs: number
  /** Join and settle before the measured part. */
  warmupMs: number
}

/** How long final states may take to reach the probes after the run. */
export const PRESENCE_DRAIN_MS = 5_000

/** Pause between the last typing and the final states, longer than any awareness window. */
const FINAL_SETTLE_MS = 500

/** How long each client may take to connect and sync. */
const CONNECT_TIMEOUT_MS = 60_000

const DOCUMENT = 'comments/bench-presence'
const THREAD = 'bench-thread'
/** Client ids: readers from here on, probes from {@link PROBE_CLIENT_BASE}. */
const READER_CLIENT_BASE = 1_000
const PROBE_CLIENT_BASE = 900_000

function stateOf(userId: string): BenchState {
  return { user: { id: userId, name: userId }, status: 'active', typing: null }
}

async function run({ server, progress, deadline, readerThreads }: RunContext, params: PresenceParams): Promise<RunOutcome> {
  const probes = await Promise.all(
    Array.from({ length: params.probes }, async (_, i) => {
      const userId = `probe-${i}`
      const probe = new PresenceClient({
        url: server.wsUrl,
        documentName: DOCUMENT,
        token: await server.token(userId),
        userId,
        clientId: PROBE_CLIENT_BASE + i,
        probe: true,
      })
      await probe.connect(CONNECT_TIMEOUT_MS)
      return probe
    }),
  )
  const pool = new PresencePool(readerThreads)
  const probeTimers: NodeJS.Timeout[] = []
  try {
    progress.update(`connecting ${params.clients} clients`)
    const assignments = await Promise.all(
      Array.from({ length: params.clients }, async (_, i) => {
        const userId = `user-${i}`
        return { userId, token: await server.token(userId), clientId: READER_CLIENT_BASE + i, typist: i < params.typists }
      }),
    )
    const connected = await pool.connect(server.wsUrl, DOCUMENT, assignments, CONNECT_TIMEOUT_MS)
    const failed = params.clients - connected.ok
    for (const probe of probes) {
      const state = stateOf(probe.options.userId)
      probe.send(state)
      probeTimers.push(setInterval(() => probe.send(state), params.heartbeatMs))
    }
    await pool.start(params.heartbeatMs, params.typingMs, THREAD)
    progress.update('warming up')
    await untilTime(performance.now() + params.warmupMs)

    await pool.count(true)
    const from = Date.now()
    const monitor = new ProcessMonitor(server.pid)
    const end = Math.min(performance.now() + params.durationMs, deadline - PRESENCE_DRAIN_MS)
    progress.update(`measuring ${Math.round(params.durationMs / 1000)} s`)
    await untilTime(end)
    const window = monitor.end()
    const counted = await pool.count(false)
    const to = Date.now()

    progress.update('final states')
    const { finals, typed } = await pool.finish(FINAL_SETTLE_MS)
    const missing = () => probes.reduce((sum, probe) => sum + finals.filter(([clientId, json]) => probe.latest.get(clientId) !== json).length, 0)
    await waitUntil(() => missing() === 0, Math.min(PRESENCE_DRAIN_MS, Math.max(0, deadline - performance.now())))
    const lost = missing()

    // Typing sent in the measured part, and its arrivals at the probes (all in by the time the final states are).
    const inWindow = (at: number) => at >= from && at <= to
    const sent = typed.filter(inWindow).length
    const latency = distribution(probes.flatMap((p) => p.typings.filter((t) => inWindow(t.at)).map((t) => t.latencyMs)))
    const dropped = counted.dropped + probes.filter((p) => p.dropped).length
    const drops = lost + dropped + failed
    return {
      metrics: {
        clients: connected.ok,
        serverCpuPct: window.cpuPct,
        framesPerReaderPerSec: counted.clients > 0 ? counted.frames / counted.clients / window.seconds : Number.NaN,
        typingP50: latency.p50,
        typingP95: latency.p95,
        typingMax: latency.max,
        finalLost: lost,
        serverRssMB: window.rssPeakMB,
        drops,
      },
      checks: { sent, expected: sent * probes.length, received: latency.count, drops },
      notes: [...connected.failures, ...(failed > 0 ? [`${failed} clients failed to connect`] : [])],
    }
  } finally {
    for (const timer of probeTimers) clearInterval(timer)
    for (const probe of probes) probe.close()
    await pool.terminate()
  }
}

export const presence: Scenario<PresenceParams> = {
  name: 'presence',
  title: 'Presence',
  description:
    'A room of light clients: heartbeats every 15 s, some typing once a second; server CPU, awareness frames per reader, typing latency, final states.',
  sizes: {
    tiny: { clients: 10, typists: 2, probes: 1, heartbeatMs: 1_500, typingMs: 500, warmupMs: 500, durationMs: 1_500 },
    small: { clients: 100, typists: 10, probes: 2, heartbeatMs: 15_000, typingMs: 1_000, warmupMs: 3_000, durationMs: 10_000 },
    large: { clients: 1_000, typists: 50, probes: 3, heartbeatMs: 15_000, typingMs: 1_000, warmupMs: 3_000, durationMs: 30_000 },
  },
  defaultSizes: ['large'],
  quickSizes: ['small'],
  servers: ['hocuspocus', 'parley'],
  overheadMs: (p) => 30_000 + p.warmupMs + PRESENCE_DRAIN_MS + p.clients * 20,
  metrics: [
    { key: 'serverCpuPct', label: 'server CPU', unit: '%', better: 'lower', primary: true },
    { key: 'framesPerReaderPerSec', label: 'awareness frames per reader', unit: '/s', better: 'lower', primary: true },
    { key: 'typingP50', label: 'typing seen p50', unit: 'ms', better: 'lower' },
    { key: 'typingP95', label: 'typing seen p95', unit: 'ms', better: 'lower', primary: true },
    { key: 'typingMax', label: 'typing seen max', unit: 'ms', better: 'lower' },
    { key: 'finalLost', label: 'final states lost', unit: 'count', better: 'lower' },
    { key: 'serverRssMB', label: 'server RSS', unit: 'MB', better: 'lower' },
    { key: 'drops', label: 'drops', unit: 'count', better: 'lower' },
  ],
  run,
}
