/**
 * An SVG chart of a results file, no dependency: one panel per primary metric of each scenario
 * and size, a bar per server (the median) with a whisker from the best to the worst run.
 */
import type { BenchResult, ScenarioResult } from './results.ts'
import { kindsIn, removedExtensions, type ServerKind } from './servers.ts'
import { round } from './stats.ts'
import type { MetricSpec } from './types.ts'

const WIDTH = 860
const LABEL_WIDTH = 110
const VALUE_WIDTH = 90
const BAR_HEIGHT = 16
const BAR_GAP = 5
const TITLE_HEIGHT = 22
const PANEL_GAP = 14
const MARGIN = 16

const COLORS: Readonly<Record<string, string>> = { 'raw-ws': '#8c8c8c', hocuspocus: '#3b6fb6', parley: '#e07b24' }
const NAMES: Readonly<Record<string, string>> = { 'raw-ws': 'raw ws', hocuspocus: 'Hocuspocus', parley: 'Parley' }
/** Colours of the `parley-without-…` servers, in the order they appear in a panel. */
const VARIANT_COLORS = ['#f2b705', '#7fb069', '#b07aa1', '#59a14f', '#9c755f', '#76b7b2']

function colorOf(kind: ServerKind, index: number): string {
  return COLORS[kind] ?? VARIANT_COLORS[index % VARIANT_COLORS.length] ?? '#999999'
}

/** `parley-without-search+feeds` → `Parley − search+feeds` (the label column is narrow). */
function nameOf(kind: ServerKind): string {
  const removed = removedExtensions(kind)
  return NAMES[kind] ?? `Parley − ${(removed ?? [kind]).map((name) => name.replace(/^parley-/, '')).join('+')}`
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

interface Panel {
  title: string
  spec: MetricSpec
  bars: Array<{ kind: ServerKind; median: number; min: number; max: number }>
}

function panelsOf(result: ScenarioResult): Panel[] {
  return result.metrics
    .filter((spec) => spec.primary)
    .map((spec) => ({
      title: `${result.title} (${result.size}): ${spec.label}, ${spec.unit} (${spec.better} is better)`,
      spec,
      bars: kindsIn(result.servers).flatMap((kind) => {
        const summary = result.servers[kind]
        if (!summary || (spec.servers && !spec.servers.includes(kind))) return []
        const values = summary.runs
          .filter((r) => r.failure === undefined)
          .map((r) => r.metrics[spec.key] ?? Number.NaN)
          .filter(Number.isFinite)
        const median = summary.median[spec.key] ?? Number.NaN
        if (!Number.isFinite(median)) return []
        return [{ kind, median, min: Math.min(...values, median), max: Math.max(...values, median) }]
      }),
    }))
    .filter((panel) => panel.bars.length > 0)
}

function drawPanel(panel: Panel, top: number): string[] {
  const plot = WIDTH - 2 * MARGIN - LABEL_WIDTH - VALUE_WIDTH
  const scale = Math.max(...panel.bars.map((b) => b.max)) || 1
  const x0 = MARGIN + LABEL_WIDTH
  const parts = [`<text x="${MARGIN}" y="${top + 15}" class="title">${escape(panel.title)}</text>`]
  panel.bars.forEach((bar, i) => {
    const y = top + TITLE_HEIGHT + i * (BAR_HEIGHT + BAR_GAP)
    const w = (bar.median / scale) * plot
    const mid = y + BAR_HEIGHT / 2
    parts.push(
      `<text x="${x0 - 8}" y="${mid + 4}" class="label" text-anchor="end">${escape(nameOf(bar.kind))}</text>`,
      `<rect x="${x0}" y="${y}" width="${Math.max(1, w).toFixed(1)}" height="${BAR_HEIGHT}" fill="${colorOf(bar.kind, i)}"/>`,
      `<line x1="${(x0 + (bar.min / scale) * plot).toFixed(1)}" x2="${(x0 + (bar.max / scale) * plot).toFixed(1)}" y1="${mid}" y2="${mid}" class="whisker"/>`,
      `<text x="${x0 + plot + 8}" y="${mid + 4}" class="value">${escape(`${round(bar.median)} ${panel.spec.unit}`)}</text>`,
    )
  })
  return parts
}

function panelHeight(panel: Panel): number {
  return TITLE_HEIGHT + panel.bars.length * (BAR_HEIGHT + BAR_GAP) + PANEL_GAP
}

/** The chart as an SVG document. */
export function renderChart(result: BenchResult): string {
  const panels = result.scenarios.flatMap(panelsOf)
  const header = 40
  const height = header + panels.reduce((sum, p) => sum + panelHeight(p), 0) + MARGIN
  const parts: string[] = []
  let top = header
  for (const panel of panels) {
    parts.push(...drawPanel(panel, top))
    top += panelHeight(panel)
  }
  const subtitle = `${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}; median of ${result.options.runs} run(s), whiskers: best to worst run`
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif">`,
    '<style>.title{font-size:13px;font-weight:600;fill:#222}.label,.value{font-size:12px;fill:#333}.sub{font-size:11px;fill:#666}.whisker{stroke:#111;stroke-width:1.5}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${MARGIN}" y="20" class="title">Parley benchmarks: raw ws, plain Hocuspocus and Parley under the same load generator</text>`,
    `<text x="${MARGIN}" y="34" class="sub">${escape(subtitle)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n')
}
