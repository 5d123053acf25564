/**
 * No test leaves a process behind (issue 24): the suite's own helpers (test/helpers/child.ts, run
 * after every file by test/helpers/setup.ts) kill every `parley serve` a test started, even when the
 * test fails before its own clean-up. This runs the project's vitest configuration over a fixture
 * whose tests start `parley serve` (directly, and under a shell in its own process group as
 * `npm start` runs) and fail without stopping it; once that vitest run has exited, none survives.
 */
import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, cleanEnv } from '../helpers/child.ts'
import { isAlive } from '../helpers/processes.ts'
import { tempDir } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

/** How long a killed process may take to be gone (SIGKILL: normally at once). */
const GONE_WITHIN_MS = 5_000

function runVitest(config: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', config],
      { cwd: ROOT, env: cleanEnv({ CI: 'true', ...env }), maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr })
      },
    )
  })
}

describe('after a test run', () => {
  it('no parley serve a failing test started survives, nor its process group', async () => {
    const work = tempDir('parley-orphans-')
    const pidFile = path.join(work, 'pids')
    writeFileSync(pidFile, '')
    try {
      const { code, output } = await runVitest('test/cli/fixtures/vitest.orphans.config.ts', { PARLEY_ORPHAN_PIDS: pidFile })
      expect(code, output).toBe(1)
      expect(output).toMatch(/2 failed/)
      const pids = readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number)
      // The shell, the server under it, and the server started directly: every one was running.
      expect(pids.length, output).toBeGreaterThanOrEqual(3)
      await waitFor(() => pids.every((pid) => !isAlive(pid)), `every server the fixture started is gone: ${pids.filter(isAlive).join(', ')}`, GONE_WITHIN_MS)
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  }, 90_000)
})
