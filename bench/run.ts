/**
 * `npm run bench -- [scenario ...] [--size a,b] [--runs n] [--servers raw-ws,hocuspocus,parley]
 *  [--duration seconds] [--quick] [--reader-threads n] [--out file.json] [--list]`
 *
 * Runs each scenario against each server (fresh child processes on 127.0.0.1), `runs` times
 * interleaved, and writes bench/results/<time>-<scenarios>.json plus an SVG chart next to it.
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { runScenario } from './lib/harness.ts'
import { openFileLimit } from './lib/proc.ts'
import { Progress } from './lib/progress.ts'
import { DEFAULT_READER_THREADS } from './lib/reader-pool.ts'
import { markdownReport } from './lib/report.ts'
import { machineInfo, writeResults, type BenchResult } from './lib/results.ts'
import { REMOVABLE_EXTENSIONS, SERVER_KINDS, isServerKind, type ServerKind } from './lib/servers.ts'
import { renderChart } from './lib/svg.ts'
import type { Scenario } from './lib/types.ts'
import { SCENARIOS, scenarioNamed } from './scenarios/index.ts'

/** Runs per server and scenario unless `--runs` says otherwise. */
const DEFAULT_RUNS = 3

/** `--quick` shortens every measured duration to this share (but not below QUICK_MIN_MS). */
const QUICK_DURATION_SHARE = 0.4
const QUICK_MIN_MS = 3_000

/** Open files the load generator needs: 10,000 sockets and some room. */
const NEEDED_OPEN_FILES = 12_000

/** Set when this process was re-executed with a raised open-files limit. */
const REEXEC_ENV = 'PARLEY_BENCH_REEXEC'

function reexecWithMoreFiles(): never {
  const result = spawnSync('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [REEXEC_ENV]: '1' },
  })
  process.exit(result.status ?? 1)
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    size: { type: 'string' },
    runs: { type: 'string' },
    servers: { type: 'string' },
    duration: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'reader-threads': { type: 'string' },
    out: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
})

if (values.list) {
  for (const s of SCENARIOS) {
    console.log(`${s.name}${s.optIn ? ' (opt-in)' : ''}: ${s.description}\n  sizes: ${Object.keys(s.sizes).join(', ')} (default ${s.defaultSizes.join(', ')})`)
  }
  process.exit(0)
}

const limit = openFileLimit()
if (limit < NEEDED_OPEN_FILES) {
  if (!process.env[REEXEC_ENV]) reexecWithMoreFiles()
  console.error(`warning: open-files limit ${limit} (< ${NEEDED_OPEN_FILES}); the 10,000-connection run may fail. Raise it with ulimit -n.`)
}

const chosen = positionals.length ? positionals : SCENARIOS.filter((s) => !s.optIn).map((s) => s.name)
const scenarios = chosen.map((name) => {
  const scenario = scenarioNamed(name)
  if (!scenario) throw new Error(`unknown scenario "${name}" (known: ${SCENARIOS.map((s) => s.name).join(', ')})`)
  return scenario
})
const serverList = values.servers?.split(',').map((s) => s.trim())
const badServer = serverList?.find((s) => !isServerKind(s))
if (badServer) {
  const removable = Object.keys(REMOVABLE_EXTENSIONS).join(', ')
  throw new Error(`unknown server "${badServer}" (known: ${SERVER_KINDS.join(', ')}, and parley-without-<a>+<b>… with any of ${removable})`)
}
const runsOption = values.runs ? Number(values.runs) : values.quick ? 1 : undefined
if (runsOption !== undefined && (!Number.isInteger(runsOption) || runsOption < 1)) throw new Error('--runs takes a whole number ≥ 1')
const runsOf = (scenario: Scenario) => runsOption ?? scenario.runs ?? DEFAULT_RUNS
const durationOverride = values.duration ? Number(values.duration) * 1000 : undefined
const readerThreads = values['reader-threads'] ? Number(values['reader-threads']) : DEFAULT_READER_THREADS

const progress = new Progress()
const result: BenchResult = {
  version: 1,
  startedAt: new Date().toISOString(),
  finishedAt: '',
  command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
  machine: machineInfo(),
  options: { runs: Math.max(...scenarios.map(runsOf)), quick: values.quick, servers: [...(serverList ?? SERVER_KINDS)].filter(isServerKind) },
  scenarios: [],
}

for (const scenario of scenarios) {
  const sizes = values.size ? values.size.split(',') : values.quick ? scenario.quickSizes : scenario.defaultSizes
  const servers: ServerKind[] = serverList ? serverList.filter(isServerKind) : [...(scenario.servers ?? SERVER_KINDS)]
  for (const size of sizes) {
    const base = scenario.sizes[size]
    if (!base) throw new Error(`${scenario.name} has no size "${size}" (sizes: ${Object.keys(scenario.sizes).join(', ')})`)
    const durationMs = durationOverride ?? (values.quick ? Math.max(QUICK_MIN_MS, Math.round(base.durationMs * QUICK_DURATION_SHARE)) : undefined)
    result.scenarios.push(await runScenario(scenario, size, { runs: runsOf(scenario), servers, progress, durationMs, readerThreads }))
  }
}
progress.done()
result.finishedAt = new Date().toISOString()

const file = writeResults(result, chosen.join('-'), values.out)
const chart = file.replace(/\.json$/, '.svg')
writeFileSync(chart, renderChart(result))
console.log(markdownReport(result))
console.log(`\nresults: ${file}\nchart:   ${chart}`)
