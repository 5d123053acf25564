/**
 * `node bench/chart.ts <results.json> [--svg out.svg]`: regenerates the SVG chart of a results
 * file (next to it unless `--svg` says where) and prints its Markdown tables, for
 * docs/PERFORMANCE.md.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { markdownReport } from './lib/report.ts'
import { readResults } from './lib/results.ts'
import { renderChart } from './lib/svg.ts'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { svg: { type: 'string' } } })
const file = positionals[0]
if (!file) {
  console.error('usage: node bench/chart.ts <results.json> [--svg out.svg]')
  process.exit(2)
}
const result = readResults(file)
const svg = values.svg ?? file.replace(/\.json$/, '.svg')
writeFileSync(svg, renderChart(result))
console.log(markdownReport(result))
console.error(`chart: ${svg}`)
