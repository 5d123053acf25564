/** Markdown tables of a results file: one per scenario and size, medians and Parley's ratios. */
import type { BenchResult, ScenarioResult } from './results.ts'
import { kindsIn, type ServerKind } from './servers.ts'
import { round } from './stats.ts'
import type { MetricSpec } from './types.ts'

function format(value: number | undefined, spec: MetricSpec): string {
  if (value === undefined || !Number.isFinite(value)) return '–'
  const rounded = round(value)
  return spec.unit === 'count' ? String(rounded) : `${rounded} ${spec.unit}`
}

function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(2)}×`
}

function appliesTo(spec: MetricSpec, kind: ServerKind): boolean {
  return !spec.servers || spec.servers.includes(kind)
}

export function scenarioTable(result: ScenarioResult): string {
  const kinds = kindsIn(result.servers)
  const hasRatios = Boolean(result.servers.parley) && kinds.length > 1
  const header = ['metric', ...kinds, ...(hasRatios ? ['Parley / raw ws', 'Parley / Hocuspocus'] : [])]
  const rows = result.metrics.map((spec) => {
    const cells = kinds.map((kind) => (appliesTo(spec, kind) ? format(result.servers[kind]?.median[spec.key], spec) : 'n/a'))
    const ratios = hasRatios ? [formatRatio(result.ratios.vsRawWs[spec.key]), formatRatio(result.ratios.vsHocuspocus[spec.key])] : []
    return [spec.primary ? `**${spec.label}**` : spec.label, ...cells, ...(spec.servers ? ratios.map(() => '–') : ratios)]
  })
  const checks = kinds.map((kind) => {
    const summary = result.servers[kind]
    if (!summary) return '–'
    const failed = summary.runs.filter((r) => r.failure !== undefined).length
    const { expected, received } = summary.checks
    return `${received}/${expected}${failed ? `, ${failed} failed runs` : ''}`
  })
  rows.push(['received / expected (all runs)', ...checks, ...(hasRatios ? ['', ''] : [])])
  const percent: MetricSpec = { key: '', label: '', unit: '%', better: 'lower' }
  rows.push([
    'load generator CPU (median)',
    ...kinds.map((kind) => format(result.servers[kind]?.median.loadgenCpuPct, percent)),
    ...(hasRatios ? ['', ''] : []),
  ])
  rows.push(['other processes CPU (median)', ...kinds.map((kind) => format(result.servers[kind]?.median.otherCpuPct, percent)), ...(hasRatios ? ['', ''] : [])])
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

export function markdownReport(result: BenchResult): string {
  const parts = [
    `Machine: ${result.machine.cpu}, ${result.machine.cores} cores, ${result.machine.memoryGiB} GiB, ${result.machine.os}, Node ${result.machine.node}, Hocuspocus ${result.machine.hocuspocus}.`,
    `Command: \`${result.command}\` at commit ${result.machine.commit?.slice(0, 7) ?? 'unknown'} (${result.options.runs} run${result.options.runs === 1 ? '' : 's'} per server, median shown).`,
  ]
  for (const scenario of result.scenarios) {
    const params = Object.entries(scenario.params)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ')
    parts.push(`### ${scenario.title} (${scenario.size})\n\n${params}\n\n${scenarioTable(scenario)}`)
  }
  return parts.join('\n\n')
}
