/**
 * What a scenario is: one file under bench/scenarios/ exporting a {@link Scenario}, registered
 * in bench/scenarios/index.ts. The harness starts a fresh server per run, hands it to `run`,
 * and aggregates the metrics of the runs (median per server, Parley as a ratio to baselines).
 */
import type { Progress } from './progress.ts'
import type { ServerKind, TargetServer } from './servers.ts'

export type Unit = 'ms' | 'µs' | 'KB' | 'MB' | '%' | '/s' | 's' | 'count'

export interface MetricSpec {
  key: string
  label: string
  unit: Unit
  /** Which direction is better; ratios and the chart read it. */
  better: 'lower' | 'higher'
  /** Shown in the summary table and chart. */
  primary?: boolean
  /** Only meaningful for these servers (e.g. storage figures for Parley). */
  servers?: readonly ServerKind[]
}

/** Every scenario's parameters include how long the measured part lasts. */
export interface ScenarioParams {
  durationMs: number
}

/** Figures of one run, keyed by {@link MetricSpec.key}. NaN: not measured. */
export type RunMetrics = Record<string, number>

/** Evidence that the run measured something real. */
export interface RunChecks {
  /** Updates sent by writers in the measured part. */
  sent: number
  /** Deliveries (or acknowledgements, or syncs) expected from those. */
  expected: number
  /** Deliveries actually observed. */
  received: number
  /** Expected but missing deliveries, plus connections the server dropped or refused. */
  drops: number
}

export interface RunOutcome {
  metrics: RunMetrics
  checks: RunChecks
  /** Anything the reader of the results should know about this run. */
  notes: string[]
}

export interface RunContext {
  server: TargetServer
  progress: Progress
  /** Performance-clock time after which the run must wrap up. */
  deadline: number
  /** Worker threads for light readers (see reader-pool.ts). */
  readerThreads: number
}

export interface Scenario<P extends ScenarioParams = ScenarioParams> {
  name: string
  title: string
  description: string
  /** Named parameter sets; `tiny` is for the CI smoke tests. */
  sizes: Readonly<Record<string, P>>
  /** Sizes `npm run bench` runs when none is given. */
  defaultSizes: readonly string[]
  /** Sizes `--quick` runs. */
  quickSizes: readonly string[]
  /** Run only when named on the command line (long runs such as the soak). */
  optIn?: boolean
  /** Runs per server unless `--runs` says otherwise (3 when not set). */
  runs?: number
  /** Servers compared when none are given (all three unless the scenario says otherwise). */
  servers?: readonly ServerKind[]
  /** Environment for the server processes on top of the harness's (e.g. Parley's default rate limits). */
  serverEnv?: Readonly<Record<string, string>>
  /** Set-up and tear-down time on top of `durationMs`, for the run's deadline. */
  overheadMs(params: P): number
  metrics: readonly MetricSpec[]
  run(context: RunContext, params: P): Promise<RunOutcome>
}
