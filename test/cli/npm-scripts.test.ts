/**
 * The npm scripts a new user runs (issue 24): `npm run token -- --help` prints the usage and exits 0
 * (it answered "Unknown option"), and `T=$(npm run -s token -- --user ana)` captures the JWT alone.
 */
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/child.ts'
import { tempDir } from '../helpers/server.ts'
import { npmEnv } from '../package/npm.ts'

function npmRun(args: string[], env: Record<string, string> = {}) {
  return spawnSync('npm', ['run', '-s', ...args], { cwd: ROOT, env: npmEnv(env), encoding: 'utf8', timeout: 30_000 })
}

describe('npm run token', () => {
  it('-- --help exits 0 with the usage on stdout', () => {
    const result = npmRun(['token', '--', '--help'])
    expect(result.status, result.stderr).toBe(0)
    expect(result.stdout).toContain('parley token --user <id>')
    expect(result.stderr).toBe('')
  })

  it('-s -- --user ana prints only the JWT on stdout', () => {
    const dataDir = tempDir()
    try {
      const result = npmRun(['token', '--', '--user', 'ana'], { PARLEY_DATA_DIR: dataDir })
      expect(result.status, result.stderr).toBe(0)
      expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
