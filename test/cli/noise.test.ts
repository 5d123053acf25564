/**
 * Noise (issue 24): in `parley serve`, Hocuspocus's own console output goes through pino and obeys
 * LOG_LEVEL. A refused connection (Hocuspocus prints `[onAuthenticate] forbidden: …`) leaves no line
 * at LOG_LEVEL=silent, and is one JSON debug line at LOG_LEVEL=debug.
 */
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { signToken } from '../../server/auth/sign.ts'
import { CLI, ROOT, cleanEnv, startChild, trackChild } from '../helpers/child.ts'
import { authFailureOf } from '../helpers/provider.ts'
import { tempDir } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const SECRET = 's'.repeat(40)

/** A port free a moment ago: a silent server logs no `listening` line to read port 0's choice from. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

describe('server output', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('prints nothing at LOG_LEVEL=silent, even for a refused connection', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const port = await freePort()
    const child = trackChild(
      spawn(process.execPath, [CLI, 'serve'], {
        cwd: ROOT,
        env: cleanEnv({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: SECRET }),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok === true, 'silent server serving')
    const reason = await authFailureOf(`ws://127.0.0.1:${port}`, 'comments/locked', await signToken({ sub: 'nobody', access: {} }, SECRET))
    expect(reason).toMatch(/^forbidden/)
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(out).toBe('')
  })

  it('at LOG_LEVEL=debug, the refusal is a pino JSON line, and no plain-text line appears', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const child = await startChild({ LOG_LEVEL: 'debug', PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: SECRET })
    const reason = await authFailureOf(child.webSocketUrl, 'comments/locked', await signToken({ sub: 'nobody', access: {} }, SECRET))
    expect(reason).toMatch(/^forbidden/)
    await waitFor(() => child.output().includes('"hook":"onAuthenticate"'), 'the hook refusal logged')
    child.process.kill('SIGTERM')
    await child.exited
    const lines = child.output().trim().split('\n')
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow()
    expect(lines.find((line) => line.includes('"hook":"onAuthenticate"'))).toMatch(/"level":20[^\n]*forbidden/)
  })
})
