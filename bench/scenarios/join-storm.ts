/**
 * Join storm: a writer fills one document with `documentBytes` of comments; then `clients` light
 * readers (and a few full Yjs probes) join at once. Time to synced, the server's peak RSS and
 * event-loop delay during the storm.
 */
import * as Y from 'yjs'
import { assignments, connectFullClients, destroyAll } from '../lib/clients.ts'
import { ProcessMonitor } from '../lib/proc.ts'
import { ReaderPool } from '../lib/reader-pool.ts'
import { distribution } from '../lib/stats.ts'
import type { RunContext, RunOutcome, Scenario, ScenarioParams } from '../lib/types.ts'
import { waitFor } from '../lib/wait.ts'
import type { FullClient } from '../lib/writer.ts'

export interface JoinStormParams extends ScenarioParams {
  clients: number
  probes: number
  /** Size the document is filled to (its encoded state), in bytes. */
  documentBytes: number
  bodyChars: number
  /** Comments per seeding update; each update is a new thread. */
  commentsPerUpdate: number
}

/** Seeding updates in flight (sent, not yet acknowledged) at once. */
const SEED_WINDOW = 4

/** How long seeding may take. */
export const SEED_TIMEOUT_MS = 120_000

/** A reader counts as synced with the whole document if it received at least this share of it. */
const SYNCED_SHARE = 0.9

const DOCUMENT = 'comments/bench-join-storm'
const MB = 1024 * 1024

async function seed(writer: FullClient, params: JoinStormParams, report: (bytes: number) => void): Promise<number> {
  let written = 0
  writer.doc.on('update', (update: Uint8Array) => {
    written += update.byteLength
  })
  for (let seq = 1, thread = 0; written < params.documentBytes; seq += params.commentsPerUpdate, thread++) {
    await waitFor(() => writer.unacknowledged < SEED_WINDOW, 'seeding acknowledgements', SEED_TIMEOUT_MS)
    writer.write(`seed-${thread}`, seq, params.bodyChars, params.commentsPerUpdate)
    report(written)
  }
  await waitFor(() => writer.unacknowledged === 0, 'the last seeding acknowledgements', SEED_TIMEOUT_MS)
  return Y.encodeStateAsUpdate(writer.doc).byteLength
}

async function run({ server, progress, deadline, readerThreads }: RunContext, params: JoinStormParams): Promise<RunOutcome> {
  const writers = await connectFullClients(server, [{ documentName: DOCUMENT, userId: 'seeder' }], progress)
  const readers = new ReaderPool(readerThreads)
  let probes: FullClient[] = []
  try {
    const writer = writers.clients[0]
    if (!writer) throw new Error(`the seeding writer could not connect: ${writers.reasons.join('; ')}`)
    const documentBytes = await seed(writer, params, (bytes) =>
      progress.update(`seeding ${(bytes / MB).toFixed(1)}/${(params.documentBytes / MB).toFixed(1)} MB`),
    )
    const tokens = await assignments(
      server,
      Array.from({ length: params.clients }, (_, i) => ({ documentName: DOCUMENT, userId: `joiner-${i}` })),
    )

    progress.update(`${params.clients} clients joining`)
    await server.probe('loop-reset')
    const monitor = new ProcessMonitor(server.pid)
    const timeoutMs = Math.max(1_000, Math.min(params.durationMs, deadline - performance.now()))
    const probing = connectFullClients(
      server,
      Array.from({ length: params.probes }, (_, i) => ({ documentName: DOCUMENT, userId: `probe-${i}` })),
      progress,
    )
    const outcomes = await readers.connect(server.wsUrl, tokens, { progress, timeoutMs })
    const probed = await probing
    probes = probed.clients
    const loop = await server.probe('loop')
    const window = monitor.end()

    const synced = outcomes.filter((o) => o.ok && o.bytesAtSync >= SYNCED_SHARE * documentBytes)
    const sync = distribution(synced.map((o) => o.connectMs))
    const probeSync = distribution(probes.map((p) => p.connectMs))
    const drops = params.clients - synced.length + probed.failed
    return {
      metrics: {
        documentMB: documentBytes / MB,
        syncP50: sync.p50,
        syncP99: sync.p99,
        syncMax: sync.max,
        probeSyncP50: probeSync.p50,
        peakRssMB: window.rssPeakMB,
        loopDelayP99Ms: loop.loop.p99,
        loopDelayMaxMs: loop.loop.max,
        serverCpuPct: window.cpuPct,
        drops,
      },
      checks: { sent: params.clients, expected: params.clients, received: synced.length, drops },
      notes: [
        ...probed.reasons,
        ...outcomes
          .filter((o) => !o.ok)
          .slice(0, 3)
          .map((o) => o.failure ?? 'failed'),
      ],
    }
  } finally {
    await readers.terminate()
    destroyAll([...probes, ...writers.clients])
  }
}

export const joinStorm: Scenario<JoinStormParams> = {
  name: 'join-storm',
  title: 'Join storm',
  description: 'Clients join one document holding megabytes of comments at the same moment.',
  sizes: {
    tiny: { clients: 10, probes: 1, documentBytes: 256 * 1024, bodyChars: 400, commentsPerUpdate: 50, durationMs: 20_000 },
    default: { clients: 150, probes: 2, documentBytes: 4 * MB, bodyChars: 400, commentsPerUpdate: 50, durationMs: 60_000 },
  },
  defaultSizes: ['default'],
  quickSizes: ['default'],
  overheadMs: () => SEED_TIMEOUT_MS + 30_000,
  metrics: [
    { key: 'syncP50', label: 'time to synced p50', unit: 'ms', better: 'lower' },
    { key: 'syncP99', label: 'time to synced p99', unit: 'ms', better: 'lower', primary: true },
    { key: 'syncMax', label: 'time to synced max', unit: 'ms', better: 'lower' },
    { key: 'probeSyncP50', label: 'Yjs probe synced p50', unit: 'ms', better: 'lower' },
    { key: 'peakRssMB', label: 'peak RSS', unit: 'MB', better: 'lower', primary: true },
    { key: 'loopDelayP99Ms', label: 'event-loop delay p99', unit: 'ms', better: 'lower' },
    { key: 'loopDelayMaxMs', label: 'event-loop delay max', unit: 'ms', better: 'lower' },
    { key: 'serverCpuPct', label: 'server CPU', unit: '%', better: 'lower' },
    { key: 'documentMB', label: 'document size', unit: 'MB', better: 'lower' },
    { key: 'drops', label: 'drops', unit: 'count', better: 'lower' },
  ],
  run,
}
