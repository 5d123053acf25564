/**
 * `node bench/run.ts` end to end, as `npm run bench` runs it: a tiny fan-out against two real
 * servers writes a results file, an SVG chart and a Markdown table, with progress on stderr;
 * `bench/chart.ts` regenerates the chart from the file.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, test } from 'vitest'
import { readResults } from '../../bench/lib/results.ts'

/** The CLI run below finishes well within this. */
const CLI_TIMEOUT_MS = 20_000

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const dirs: string[] = []

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function runNode(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`node ${args.join(' ')} did not finish within ${CLI_TIMEOUT_MS} ms:\n${stderr}`))
    }, CLI_TIMEOUT_MS)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

test(
  'npm run bench -- fanout --size tiny writes results, a chart and a table',
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-bench-cli-'))
    dirs.push(dir)
    const out = path.join(dir, 'results.json')
    const run = await runNode(['bench/run.ts', 'fanout', '--size', 'tiny', '--runs', '1', '--servers', 'raw-ws,parley', '--reader-threads', '1', '--out', out])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain('[fanout/tiny raw-ws run 1/1]')
    expect(run.stderr).toMatch(/fanout\/tiny parley run 1\/1: delivery p95 [\d.]+ ms, drops 0/)
    expect(run.stdout).toContain('| **delivery p95** |')

    const result = readResults(out)
    expect(result.command).toContain('fanout --size tiny')
    expect(result.machine.cores).toBeGreaterThan(0)
    const fanout = result.scenarios[0]
    expect(fanout?.scenario).toBe('fanout')
    expect(fanout?.servers.parley?.median.deliveryP95).toBeGreaterThan(0)
    expect(fanout?.ratios.vsRawWs.deliveryP95).toBeGreaterThan(0)

    const svg = readFileSync(out.replace(/\.json$/, '.svg'), 'utf8')
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/)
    expect(svg).toContain('Fan-out (tiny): delivery p95')

    const chart = await runNode(['bench/chart.ts', out, '--svg', path.join(dir, 'again.svg')])
    expect(chart.code, chart.stderr).toBe(0)
    expect(existsSync(path.join(dir, 'again.svg'))).toBe(true)
    expect(chart.stdout).toContain('### Fan-out (tiny)')
  },
  CLI_TIMEOUT_MS + 5_000,
)
