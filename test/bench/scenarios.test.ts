/**
 * Smoke runs of every bench scenario at its tiny size, against real server processes (raw ws,
 * plain Hocuspocus, Parley) and real sockets: the harness must measure something real, i.e.
 * every update sent is received (or acknowledged, or every joiner synced) and figures are positive.
 */
import { describe, expect, test } from 'vitest'
import { runScenario } from '../../bench/lib/harness.ts'
import { Progress } from '../../bench/lib/progress.ts'
import type { ScenarioResult, ServerSummary } from '../../bench/lib/results.ts'
import { SERVER_KINDS } from '../../bench/lib/servers.ts'
import { SCENARIOS } from '../../bench/scenarios/index.ts'

/**
 * A tiny run of one scenario against all three servers stays well under this: about 11 s for the
 * slowest (flood) with the machine's two cores loaded (load average 6), 25 s once when every test
 * file ran at once beside other work; a ceiling against hangs, not a timing assertion.
 */
const SMOKE_TIMEOUT_MS = 60_000

/** Metrics that must be positive (and finite) in every run, per scenario. */
const POSITIVE: Record<string, readonly string[]> = {
  fanout: ['deliveryP50', 'deliveryP95', 'deliveryMax', 'probeP95', 'serverRssMB'],
  connections: ['connectP50', 'rssPerConnKB', 'serverRssMB', 'deliveryP95', 'rampSeconds'],
  'join-storm': ['syncP50', 'syncP99', 'probeSyncP50', 'peakRssMB', 'documentMB'],
  'durable-writes': ['updatesPerSec', 'ackP50', 'ackP99'],
  soak: ['rssAfterWarmupMB', 'rssEndMB', 'heapAfterWarmupMB', 'heapEndMB', 'deliveryP95'],
  presence: ['framesPerReaderPerSec', 'typingP95', 'serverRssMB'],
  search: ['buildSeconds', 'indexBytesPerComment', 'oneWordEngineP95', 'threeWordsEngineP95', 'prefixEngineP95', 'oneWordRestP95', 'findableP95', 'diffUs'],
  feeds: ['feedP95', 'feedRowsPerSec', 'rowsPerComment', 'commentsPerSec'],
  cluster: ['singleP95', 'spreadP95', 'spreadRatio', 'convergeMs'],
}

/** Metrics that may be zero at the tiny size (CPU read in clock ticks of 10 ms) but must be there, per scenario. */
const PRESENT: Record<string, readonly string[]> = {
  connections: ['connectCpuUs'],
}

function expectReal(name: string, kind: string, summary: ServerSummary | undefined): void {
  expect(summary, `${name} ran against ${kind}`).toBeDefined()
  if (!summary) return
  const run = summary.runs[0]
  expect(run?.failure, `${name} on ${kind} failed`).toBeUndefined()
  expect(summary.checks.sent, `${name} on ${kind} sent something`).toBeGreaterThan(0)
  expect(summary.checks.expected).toBeGreaterThan(0)
  expect(summary.checks.received, `${name} on ${kind}: everything sent was received`).toBe(summary.checks.expected)
  expect(summary.checks.drops).toBe(0)
  for (const key of POSITIVE[name] ?? []) {
    const value = summary.median[key]
    expect(Number.isFinite(value) && (value ?? 0) > 0, `${name} on ${kind}: ${key} = ${String(value)} is positive`).toBe(true)
  }
  for (const key of PRESENT[name] ?? []) {
    const value = summary.median[key]
    expect(Number.isFinite(value) && (value ?? -1) >= 0, `${name} on ${kind}: ${key} = ${String(value)} is there`).toBe(true)
  }
  expect(summary.median.serverCpuPct ?? -1).toBeGreaterThanOrEqual(0)
  expect(summary.median.loadgenCpuPct ?? 0).toBeGreaterThan(0)
}

describe('bench scenarios at their tiny size', () => {
  for (const scenario of SCENARIOS) {
    test(
      scenario.name,
      async () => {
        const servers = scenario.servers ?? SERVER_KINDS
        const result: ScenarioResult = await runScenario(scenario, 'tiny', {
          runs: 1,
          servers,
          progress: new Progress({ quiet: true }),
          readerThreads: 1,
        })
        for (const kind of servers) expectReal(scenario.name, kind, result.servers[kind])
        if (servers.includes('parley') && servers.length > 1) {
          expect(Object.keys(result.ratios.vsHocuspocus).length).toBeGreaterThan(0)
        }
        if (scenario.name === 'durable-writes') {
          const parley = result.servers.parley?.median
          expect(parley?.appendUs ?? 0, 'Parley reports µs per append from its /metrics').toBeGreaterThan(0)
          expect(parley?.appendsPerSec ?? 0).toBeGreaterThan(0)
        }
        if (scenario.name === 'soak') {
          // What RSS holds besides the heap in use, sampled beside it: V8's reserved heap and external memory.
          const note = result.servers.parley?.runs[0]?.notes.find((n) => n.startsWith('JS heap held by V8 / external samples (MB): '))
          const samples = note?.split(': ')[1]?.split(' ') ?? []
          expect(samples.length, 'the soak samples V8 heap and external memory').toBeGreaterThan(0)
          for (const sample of samples) expect(sample).toMatch(/^\d+s=[1-9]\d*\.\d\/\d+\.\d$/)
        }
        if (scenario.name === 'activity') {
          const parley = result.servers.parley?.median
          expect(parley?.notificationsPerSec ?? 0, 'Parley counts notifications recorded in its /metrics').toBeGreaterThan(0)
          expect(parley?.drops, 'every thread start and reply reaches a watched inbox').toBe(0)
        }
      },
      SMOKE_TIMEOUT_MS,
    )
  }
})
