/**
 * Test output (issue 24): what a test prints (its own console and that of the servers it embeds) is
 * shown only when the test fails (`silent: 'passed-only'` in vitest.config.ts), so a green run stays
 * short and a red one keeps everything needed to see why.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, cleanEnv } from '../helpers/child.ts'

function runVitest(config: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', config],
      { cwd: ROOT, env: cleanEnv({ CI: 'true' }) },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr })
      },
    )
  })
}

describe('test output', () => {
  it('shows what a failing test printed and hides what a passing one did', async () => {
    const { code, output } = await runVitest('test/package/fixtures/vitest.output.config.ts')
    expect(code).toBe(1)
    expect(output).toContain('FAILING-TEST-OUTPUT')
    expect(output).not.toContain('PASSING-TEST-OUTPUT')
    expect(output).toMatch(/1 failed/)
  }, 60_000)
})
