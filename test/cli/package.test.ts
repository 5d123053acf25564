import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, cleanEnv } from '../helpers/child.ts'
import { tempDir } from '../helpers/server.ts'

describe('the compiled package', () => {
  it('builds to JavaScript that embeds and serves, as an installed dependency would use it', () => {
    const outDir = path.join(ROOT, 'dist-test')
    rmSync(outDir, { recursive: true, force: true })
    try {
      const build = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir], {
        cwd: ROOT,
        encoding: 'utf8',
      })
      expect(build.stdout + build.stderr).toBe('')
      expect(build.status).toBe(0)
      const dataDir = tempDir()
      // Plain JavaScript with type stripping off: what Node does inside node_modules.
      const script = `
        const { createParleyServer } = await import(${JSON.stringify(path.join(outDir, 'server/index.js'))})
        const { createParleyClient } = await import(${JSON.stringify(path.join(outDir, 'client/index.js'))})
        const server = await createParleyServer({ port: 0, host: '127.0.0.1', logLevel: 'silent', dataDir: ${JSON.stringify(dataDir)} })
        await server.listen()
        const health = await (await fetch(server.httpUrl + '/health')).json()
        console.log(JSON.stringify({ health, client: typeof createParleyClient }))
        await server.close()
      `
      const run = spawnSync(process.execPath, ['--no-experimental-strip-types', '--input-type=module', '-e', script], {
        cwd: ROOT,
        env: cleanEnv({}),
        encoding: 'utf8',
        timeout: 20_000,
      })
      rmSync(dataDir, { recursive: true, force: true })
      expect(run.stderr).toBe('')
      expect(JSON.parse(run.stdout.trim())).toEqual({ health: { status: 'ok' }, client: 'function' })
    } finally {
      rmSync(outDir, { recursive: true, force: true })
    }
  }, 60_000)
})
