/**
 * Flood: an honest writer adds a comment every `intervalMs` to a document an honest reader
 * follows, in `windows` pairs of windows: alone (unloaded), then while `flooders` standard
 * providers, each in its own process, write valid comments into the same document as fast as their
 * sockets take them (flooded). Interleaving spreads whatever else the machine does over both kinds.
 * Parley runs at its default limits (10 updates/s per socket and user, bursts of 50): it reads a
 * flooder's socket more slowly instead of refusing it. Plain Hocuspocus is the reference. Honest
 * delivery p95 unloaded and flooded, the flooders' accepted (acknowledged) rate, server CPU and RSS
 * over the flood period.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { UPDATE_BURST, UPDATES_PER_SECOND } from '../../server/flow/limits.ts'
import { connectFullClients, destroyAll } from '../lib/clients.ts'
import type { FlooderReport } from '../lib/flooder.ts'
import { ProcessMonitor } from '../lib/proc.ts'
import { distribution } from '../lib/stats.ts'
import type { RunContext, RunOutcome, Scenario, ScenarioParams } from '../lib/types.ts'
import { untilTime, waitFor, waitUntil } from '../lib/wait.ts'

export interface FloodParams extends ScenarioParams {
  /** Flooding clients, one process each (one user each). */
  flooders: number
  /** Pairs of windows (unloaded, flooded); the flooded ones add up to half of `durationMs`. */
  windows: number
  /** The honest writer's pace (below Parley's 10 updates/s). */
  intervalMs: number
  bodyChars: number
}

/** How long honest deliveries may trail the last write. */
export const FLOOD_DRAIN_MS = 15_000
/** How long a flooder may take to connect and prepare its frames (at the lowest CPU priority). */
const FLOODER_READY_MS = 60_000
/** How long a flooder may take to report after `exit`. */
const FLOODER_TIMEOUT_MS = 20_000

const DOCUMENT = 'comments/bench-flood'
const THREAD = 'bench-thread'
const FLOODER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../lib/flooder.ts')

interface Flooder {
  child: ChildProcessWithoutNullStreams
  output: () => string
}

/** Frames a flooder prepares per second of flooding: more than plain Hocuspocus takes (about 4 000/s here). */
const PREPARED_PER_SECOND = 8_000

async function startFlooder(url: string, token: string, userId: string, count: number): Promise<Flooder> {
  // At the lowest CPU priority: it stands for clients on other machines, so that its own work
  // (Yjs transactions) competes as little as possible with the server and the measuring clients.
  const child = spawn('nice', ['-n', '19', process.execPath, FLOODER, url, token, DOCUMENT, userId, String(count)], { stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  await waitFor(() => output.includes('ready') || child.exitCode !== null, `${userId} ready`, FLOODER_READY_MS)
  if (!output.includes('ready')) throw new Error(`${userId} did not start: ${output.trim()}`)
  return { child, output: () => output }
}

async function stopFlooder(flooder: Flooder): Promise<FlooderReport | undefined> {
  flooder.child.stdin.write('exit\n')
  const reported = await waitUntil(() => flooder.output().trim().endsWith('}'), FLOODER_TIMEOUT_MS)
  flooder.child.kill('SIGKILL')
  if (!reported) return undefined
  return JSON.parse(flooder.output().trim().split('\n').at(-1) ?? '{}') as FlooderReport
}

async function run({ server, progress, deadline }: RunContext, params: FloodParams): Promise<RunOutcome> {
  const sentAt = new Map<number, number>()
  const latencies: number[] = []
  const onRemoteSeq = (seq: number, at: number) => {
    const sent = sentAt.get(seq)
    if (sent === undefined) return
    latencies.push(at - sent)
    sentAt.delete(seq)
  }
  const connected = await connectFullClients(server, [{ documentName: DOCUMENT, userId: 'writer' }], progress)
  const readers = await connectFullClients(server, [{ documentName: DOCUMENT, userId: 'reader' }], progress, onRemoteSeq)
  const writer = connected.clients[0]
  const flooders: Flooder[] = []
  try {
    if (!writer || readers.clients.length === 0) throw new Error(`clients could not connect: ${[...connected.reasons, ...readers.reasons].join('; ')}`)
    let seq = 0
    let written = 0
    const phase = async (label: string, ms: number): Promise<number[]> => {
      latencies.length = 0
      const start = performance.now()
      const writes = Math.max(1, Math.floor(ms / params.intervalMs))
      for (let i = 0; i < writes && performance.now() < deadline; i++) {
        await untilTime(start + i * params.intervalMs)
        sentAt.set(++seq, performance.now())
        writer.write(THREAD, seq, params.bodyChars)
        written++
        progress.update(`${label}: ${i + 1}/${writes} written`)
      }
      await waitUntil(() => sentAt.size === 0, FLOOD_DRAIN_MS)
      return [...latencies]
    }
    // The thread exists before the measured part.
    await phase('warm-up', params.intervalMs * 3)
    progress.update(`starting ${params.flooders} flooder(s)`)
    const frames = Math.ceil((params.durationMs / 2 / 1000) * PREPARED_PER_SECOND)
    for (let i = 0; i < params.flooders; i++) flooders.push(await startFlooder(server.wsUrl, await server.token(`flooder-${i}`), `flooder-${i}`, frames))
    const tell = (line: string) => {
      for (const flooder of flooders) flooder.child.stdin.write(`${line}\n`)
    }
    const windowMs = params.durationMs / (2 * params.windows)
    const unloaded: number[] = []
    const flooded: number[] = []
    let monitor: ProcessMonitor | undefined
    let floodStart = 0
    let halfAt = 0
    for (let w = 0; w < params.windows && performance.now() < deadline; w++) {
      unloaded.push(...(await phase(`unloaded ${w + 1}/${params.windows}`, windowMs)))
      if (w === 0) {
        monitor = new ProcessMonitor(server.pid)
        floodStart = performance.now()
      }
      if (w === Math.floor(params.windows / 2)) {
        tell('half')
        halfAt = performance.now()
      }
      tell('flood')
      flooded.push(...(await phase(`flooded ${w + 1}/${params.windows}`, windowMs)))
      tell('pause')
    }
    if (!monitor) throw new Error('the run ended before the flood')
    // From the first flood on (the backlog a slowed flooder left keeps coming through the unloaded windows).
    const floodSeconds = (performance.now() - floodStart) / 1000
    const secondHalfSeconds = (performance.now() - halfAt) / 1000
    const window = monitor.end()
    const reports = await Promise.all(flooders.splice(0).map(stopFlooder))
    const complete = reports.filter((r): r is FlooderReport => r !== undefined)
    const sum = (pick: (r: FlooderReport) => number) => complete.reduce((total, r) => total + pick(r), 0)

    const missing = sentAt.size
    const before = distribution(unloaded)
    const during = distribution(flooded)
    const notes = [...connected.reasons, ...readers.reasons]
    if (complete.length < reports.length) notes.push(`${reports.length - complete.length} flooder(s) did not report`)
    if (server.kind === 'parley') notes.push(`Parley at its default limits: ${UPDATES_PER_SECOND} updates/s per socket and user, bursts of ${UPDATE_BURST}`)
    return {
      metrics: {
        honestP95Unloaded: before.p95,
        honestP95Flooded: during.p95,
        honestP95Ratio: during.p95 / before.p95,
        flooderAcceptedPerSec: sum((r) => r.acknowledged) / floodSeconds,
        flooderSustainedPerSec: sum((r) => r.acknowledged - r.acknowledgedAtHalf) / secondHalfSeconds,
        flooderSentPerSec: sum((r) => r.sent) / floodSeconds,
        flooderCloses: sum((r) => r.closes),
        serverCpuPct: window.cpuPct,
        serverRssPeakMB: window.rssPeakMB,
        serverRssGrowthMB: window.rssPeakMB - window.rssStartMB,
        drops: missing,
      },
      checks: { sent: written, expected: written, received: written - missing, drops: missing },
      notes,
    }
  } finally {
    for (const flooder of flooders) flooder.child.kill('SIGKILL')
    destroyAll([...connected.clients, ...readers.clients])
  }
}

export const flood: Scenario<FloodParams> = {
  name: 'flood',
  title: 'Flood',
  description:
    'An honest writer and reader next to flooders writing valid comments as fast as their sockets take them; honest p95 loaded/unloaded, accepted flood rate, server CPU and RSS.',
  sizes: {
    tiny: { flooders: 1, windows: 1, intervalMs: 150, bodyChars: 80, durationMs: 3_000 },
    default: { flooders: 1, windows: 5, intervalMs: 150, bodyChars: 80, durationMs: 20_000 },
    wide: { flooders: 4, windows: 5, intervalMs: 150, bodyChars: 80, durationMs: 20_000 },
    /** No flooder: how far apart the two kinds of windows are on this machine without a flood. */
    control: { flooders: 0, windows: 5, intervalMs: 150, bodyChars: 80, durationMs: 20_000 },
  },
  defaultSizes: ['default'],
  quickSizes: ['default'],
  servers: ['hocuspocus', 'parley'],
  // Parley reads flooders at its default limits (not the bench's raised update rate).
  serverEnv: { PARLEY_UPDATES_PER_SECOND: String(UPDATES_PER_SECOND), PARLEY_UPDATE_BURST: String(UPDATE_BURST) },
  overheadMs: (p) => 30_000 + (p.windows + 1) * FLOOD_DRAIN_MS + FLOODER_READY_MS + FLOODER_TIMEOUT_MS,
  metrics: [
    { key: 'honestP95Unloaded', label: 'honest p95 unloaded', unit: 'ms', better: 'lower' },
    { key: 'honestP95Flooded', label: 'honest p95 flooded', unit: 'ms', better: 'lower' },
    { key: 'honestP95Ratio', label: 'honest p95 flooded/unloaded', unit: 'count', better: 'lower', primary: true },
    { key: 'flooderAcceptedPerSec', label: 'flood accepted', unit: '/s', better: 'lower', primary: true },
    { key: 'flooderSustainedPerSec', label: 'flood accepted (2nd half)', unit: '/s', better: 'lower' },
    { key: 'flooderSentPerSec', label: 'flood written', unit: '/s', better: 'higher' },
    { key: 'flooderCloses', label: 'flooder sockets closed', unit: 'count', better: 'lower' },
    { key: 'serverCpuPct', label: 'server CPU (flood period)', unit: '%', better: 'lower', primary: true },
    { key: 'serverRssPeakMB', label: 'server RSS peak (flood period)', unit: 'MB', better: 'lower' },
    { key: 'serverRssGrowthMB', label: 'server RSS growth (flood period)', unit: 'MB', better: 'lower' },
    { key: 'drops', label: 'honest undelivered', unit: 'count', better: 'lower' },
  ],
  run,
}
