/** The results file (bench/results/*.json): its shape, medians, ratios, the machine. */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ServerKind } from './servers.ts'
import { median } from './stats.ts'
import type { MetricSpec, RunChecks, RunMetrics, RunOutcome, ScenarioParams } from './types.ts'

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url))

export interface RunRecord extends RunOutcome {
  run: number
  /** Why the run failed; its metrics are then left out of the median. */
  failure?: string
}

export interface ServerSummary {
  runs: RunRecord[]
  /** Median of each metric over the runs that did not fail. */
  median: RunMetrics
  /** Checks summed over the runs that did not fail. */
  checks: RunChecks
}

export interface ScenarioResult {
  scenario: string
  title: string
  size: string
  params: ScenarioParams
  metrics: MetricSpec[]
  servers: Partial<Record<ServerKind, ServerSummary>>
  /** Parley's median divided by each baseline's median, per metric. */
  ratios: { vsRawWs: RunMetrics; vsHocuspocus: RunMetrics }
}

export interface MachineInfo {
  /** The commit the code under test was at (`git rev-parse HEAD`); absent in older files. */
  commit?: string
  cpu: string
  cores: number
  memoryGiB: number
  os: string
  node: string
  hocuspocus: string
}

export interface BenchResult {
  version: 1
  startedAt: string
  finishedAt: string
  command: string
  machine: MachineInfo
  options: { runs: number; quick: boolean; servers: ServerKind[] }
  scenarios: ScenarioResult[]
}

function packageVersion(name: string): string {
  try {
    const file = fileURLToPath(new URL(`../../node_modules/${name}/package.json`, import.meta.url))
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'))
    const version = typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'version') : undefined
    return typeof version === 'string' ? version : 'unknown'
  } catch {
    return 'unknown'
  }
}

function currentCommit(): string {
  const result = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: fileURLToPath(new URL('../../', import.meta.url)), encoding: 'utf8' })
  return result.status === 0 ? result.stdout.trim() : 'unknown'
}

export function machineInfo(): MachineInfo {
  return {
    commit: currentCommit(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    hocuspocus: packageVersion('@hocuspocus/server'),
  }
}

export function summarize(runs: RunRecord[]): ServerSummary {
  const ok = runs.filter((r) => r.failure === undefined)
  const keys = new Set(ok.flatMap((r) => Object.keys(r.metrics)))
  const medians: RunMetrics = {}
  for (const key of keys) medians[key] = median(ok.map((r) => r.metrics[key] ?? Number.NaN))
  const checks: RunChecks = { sent: 0, expected: 0, received: 0, drops: 0 }
  for (const r of ok) {
    checks.sent += r.checks.sent
    checks.expected += r.checks.expected
    checks.received += r.checks.received
    checks.drops += r.checks.drops
  }
  return { runs, median: medians, checks }
}

function ratio(of: RunMetrics | undefined, to: RunMetrics | undefined): RunMetrics {
  const result: RunMetrics = {}
  if (!of || !to) return result
  for (const [key, value] of Object.entries(of)) {
    const base = to[key]
    if (base !== undefined && Number.isFinite(value) && Number.isFinite(base) && base !== 0) result[key] = value / base
  }
  return result
}

export function ratios(servers: ScenarioResult['servers']): ScenarioResult['ratios'] {
  const parley = servers.parley?.median
  return { vsRawWs: ratio(parley, servers['raw-ws']?.median), vsHocuspocus: ratio(parley, servers.hocuspocus?.median) }
}

/** JSON with NaN and infinities as null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)
}

/** Writes `bench/results/<stamp>-<label>.json` (or `file`) and returns its path. */
export function writeResults(result: BenchResult, label: string, file?: string): string {
  const target = file ?? path.join(RESULTS_DIR, `${result.startedAt.replace(/[:.]/g, '-')}-${label}.json`)
  mkdirSync(path.dirname(target), { recursive: true })
  writeFileSync(target, `${toJson(result)}\n`)
  return target
}

/** Reads a results file back; nulls become NaN. */
export function readResults(file: string): BenchResult {
  return JSON.parse(readFileSync(file, 'utf8'), (_, v: unknown) => (v === null ? Number.NaN : v)) as BenchResult
}
