/**
 * Runs one scenario at one size against each server `runs` times, interleaved (raw-ws,
 * hocuspocus, parley, raw-ws, …) so that drift on a shared machine spreads over all servers.
 * Every run gets a fresh server process and a deadline; the load generator watches itself.
 */
import type { Progress } from './progress.ts'
import { SelfMonitor, machineBusySeconds, snapshot } from './proc.ts'
import { ratios, summarize, type RunRecord, type ScenarioResult } from './results.ts'
import { startServer, type ServerKind, type TargetServer } from './servers.ts'
import { round } from './stats.ts'
import type { RunOutcome, Scenario, ScenarioParams } from './types.ts'
import { withTimeout } from './wait.ts'

/** Load-generator CPU (percent of one core) above which a run is flagged as possibly client-bound. */
export const LOADGEN_CPU_WARN_PCT = 85

/** CPU used by other processes (percent of one core) above which a run is flagged as noisy. */
export const OTHER_CPU_WARN_PCT = 25

export interface HarnessOptions {
  runs: number
  servers: readonly ServerKind[]
  progress: Progress
  /** Overrides the measured duration of every size. */
  durationMs?: number
  /** Worker threads for light readers. */
  readerThreads: number
}

export function paramsFor<P extends ScenarioParams>(scenario: Scenario<P>, size: string, durationMs?: number): P {
  const params = scenario.sizes[size]
  if (!params) throw new Error(`${scenario.name} has no size "${size}" (sizes: ${Object.keys(scenario.sizes).join(', ')})`)
  return durationMs === undefined ? { ...params } : { ...params, durationMs }
}

function describe(scenario: Scenario, kind: ServerKind, outcome: RunOutcome): string {
  const shown = scenario.metrics.filter((m) => (m.primary || m.key === 'drops') && (!m.servers || m.servers.includes(kind)))
  return shown.map((m) => `${m.label} ${round(outcome.metrics[m.key] ?? Number.NaN)}${m.unit === 'count' ? '' : ` ${m.unit}`}`).join(', ')
}

async function runOnce<P extends ScenarioParams>(scenario: Scenario<P>, params: P, server: TargetServer, options: HarnessOptions): Promise<RunOutcome> {
  const budgetMs = params.durationMs + scenario.overheadMs(params)
  const self = new SelfMonitor()
  const started = { at: performance.now(), busy: machineBusySeconds(), server: snapshot(server.pid).cpuSeconds, self: process.cpuUsage() }
  const outcome = await withTimeout(
    scenario.run({ server, progress: options.progress, deadline: performance.now() + budgetMs, readerThreads: options.readerThreads }, params),
    budgetMs,
    `${scenario.name} run`,
  )
  const loadgen = self.end()
  outcome.metrics.loadgenCpuPct = loadgen.cpuPct
  outcome.metrics.loadgenLoopP99Ms = loadgen.loopP99Ms
  if (!server.exited) {
    // CPU that neither the server nor the load generator used: other work on a shared machine.
    const seconds = (performance.now() - started.at) / 1000
    const own = snapshot(server.pid).cpuSeconds - started.server
    const selfUsed = process.cpuUsage(started.self)
    const selfSeconds = (selfUsed.user + selfUsed.system) / 1e6
    outcome.metrics.otherCpuPct = Math.max(0, (100 * (machineBusySeconds() - started.busy - own - selfSeconds)) / seconds)
  }
  if (outcome.metrics.otherCpuPct !== undefined && outcome.metrics.otherCpuPct > OTHER_CPU_WARN_PCT) {
    outcome.notes.push(`other processes used ${Math.round(outcome.metrics.otherCpuPct)}% CPU during the run: expect noise`)
  }
  if (loadgen.cpuPct > LOADGEN_CPU_WARN_PCT) {
    outcome.notes.push(`load generator at ${Math.round(loadgen.cpuPct)}% CPU: figures may be client-bound`)
  }
  if (server.exited) throw new Error(`the server exited during the run: ${server.stderrTail().trim()}`)
  return outcome
}

export async function runScenario<P extends ScenarioParams>(scenario: Scenario<P>, size: string, options: HarnessOptions): Promise<ScenarioResult> {
  const params = paramsFor(scenario, size, options.durationMs)
  const { progress } = options
  const records = new Map<ServerKind, RunRecord[]>(options.servers.map((kind) => [kind, []]))
  for (let run = 1; run <= options.runs; run++) {
    for (const kind of options.servers) {
      const label = `${scenario.name}/${size} ${kind} run ${run}/${options.runs}`
      progress.phase(label)
      let server: TargetServer | undefined
      let record: RunRecord
      try {
        server = await startServer(kind, scenario.serverEnv)
        record = { run, ...(await runOnce(scenario, params, server, options)) }
        progress.log(`${label}: ${describe(scenario, kind, record)}`)
        for (const note of record.notes) progress.log(`  note: ${note}`)
      } catch (error) {
        const failure = error instanceof Error ? error.message : String(error)
        record = { run, metrics: {}, checks: { sent: 0, expected: 0, received: 0, drops: 0 }, notes: [], failure }
        progress.log(`${label}: FAILED: ${failure}`)
      } finally {
        progress.update('stopping the server', true)
        await server?.stop()
      }
      records.get(kind)?.push(record)
    }
  }
  const servers: ScenarioResult['servers'] = {}
  for (const [kind, runs] of records) servers[kind] = summarize(runs)
  return {
    scenario: scenario.name,
    title: scenario.title,
    size,
    params,
    metrics: [...scenario.metrics],
    servers,
    ratios: ratios(servers),
  }
}
