/**
 * Shutdown always finishes (issue 24): a `parley serve` whose stdout/stderr pipes were closed (a log
 * shipper that died) still exits on SIGTERM, within its deadline. Before, pino's final synchronous
 * flush retried the EPIPE write every 100 ms forever.
 */
import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { tempDir } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const DEADLINE_MS = 3_000

describe('parley serve shutdown', () => {
  const dirs: string[] = []
  const children: ChildServer[] = []
  afterEach(() => {
    for (const c of children.splice(0)) c.process.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('exits within the deadline on SIGTERM after its stdout and stderr pipes were closed', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const child = await startChild({ PARLEY_DATA_DIR: dataDir, LOG_LEVEL: 'debug', PARLEY_SHUTDOWN_TIMEOUT_MS: String(DEADLINE_MS) })
    children.push(child)
    child.process.stdout?.destroy()
    child.process.stderr?.destroy()
    let code: number | null | undefined
    void child.exited.then((c) => (code = c))
    child.process.kill('SIGTERM')
    await waitFor(() => code !== undefined, 'parley serve exited', DEADLINE_MS + 2_000)
    // A graceful close (0) or the deadline's code (3): never left running.
    expect([0, 3]).toContain(code)
  })

  it('exits 0 on SIGTERM and logs that it is shutting down, with its deadline', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const child = await startChild({ PARLEY_DATA_DIR: dataDir, PARLEY_SHUTDOWN_TIMEOUT_MS: String(DEADLINE_MS) })
    children.push(child)
    child.process.kill('SIGTERM')
    expect(await child.exited).toBe(0)
    expect(child.output()).toMatch(/"timeoutMs":3000[^\n]*"msg":"shutting down"/)
  })

  it('rejects a malformed PARLEY_SHUTDOWN_TIMEOUT_MS with a one-line reason', async () => {
    await expect(startChild({ PARLEY_SHUTDOWN_TIMEOUT_MS: 'soon' })).rejects.toThrow(/PARLEY_SHUTDOWN_TIMEOUT_MS/)
  })
})
