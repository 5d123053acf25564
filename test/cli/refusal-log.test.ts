/**
 * A refused write logs one line (issue 24): in `parley serve` at the default LOG_LEVEL (info), a
 * write the guard refuses is one JSON `update refused` line naming its code and document, with no
 * stack, and Hocuspocus's own report of the closed session (an `UpdateRefused` with its stack, on
 * console) prints nothing. Before, the refusal printed the full `UpdateRefused` stack.
 */
import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { signToken } from '../../server/auth/sign.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { tempDir } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const SECRET = 'r'.repeat(40)
const DOCUMENT = 'comments/refusals'

describe('a refused write in parley serve', () => {
  const dirs: string[] = []
  const clients: TestClient[] = []
  const children: ChildServer[] = []
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy()
    for (const c of children.splice(0)) c.process.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('logs one JSON line with its code and document, and no stack', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const child = await startChild({ LOG_LEVEL: 'info', PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: SECRET })
    children.push(child)
    const client = await connectSynced(child.webSocketUrl, DOCUMENT, await signToken({ sub: 'mallory' }, SECRET))
    clients.push(client)
    // A root the comments schema does not have: the guard refuses it and closes the session.
    client.doc.getMap('junk').set('x', 1)
    await waitFor(() => child.output().includes('update refused'), 'the refusal logged')
    child.process.kill('SIGTERM')
    expect(await child.exited).toBe(0)
    const lines = child.output().trim().split('\n')
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow()
    const refusals = lines.filter((line) => /refused|UpdateRefused/.test(line))
    expect(refusals).toHaveLength(1)
    const refusal = JSON.parse(refusals[0] ?? '{}') as { level: number; code?: string; documentName?: string; err?: unknown; stack?: unknown }
    expect(refusal).toMatchObject({ level: 40, documentName: DOCUMENT, code: expect.stringMatching(/^[a-z_]+$/) })
    expect(refusal).not.toHaveProperty('err')
    expect(child.output()).not.toMatch(/\n\s+at /)
    expect(child.output()).not.toContain('\\n    at ')
  })
})
