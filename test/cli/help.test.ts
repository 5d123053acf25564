/** CLI help (issue 24): `--help` on every command exits 0 with the usage on stdout; `parley token` prints only the JWT. */
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CLI, ROOT, cleanEnv } from '../helpers/child.ts'
import { tempDir } from '../helpers/server.ts'

function runCli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, env: cleanEnv(env), encoding: 'utf8', timeout: 20_000 })
}

describe('parley --help', () => {
  it.each([[['--help']], [['-h']], [['help']], [['serve', '--help']], [['token', '--help']], [['reindex', '--help']]])(
    '%j exits 0 with the usage on stdout',
    (args) => {
      const result = runCli(args)
      expect(result.status).toBe(0)
      expect(result.stdout).toContain('parley token --user <id>')
      expect(result.stderr).toBe('')
    },
  )

  it('parley token prints only the JWT on stdout', () => {
    const dataDir = tempDir()
    try {
      const result = runCli(['token', '--user', 'ana'], { PARLEY_DATA_DIR: dataDir })
      expect(result.status).toBe(0)
      expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('an unknown command still exits 2 with the usage on stderr', () => {
    const result = runCli(['frobnicate'])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('usage:')
  })
})
