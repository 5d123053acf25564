/**
 * The search index across kill -9: the server kills itself (PARLEY_FAULT=before-detection,
 * test-only) right after a new comment was acknowledged, before the batched index write. The
 * comment is stored but not indexed; after a restart the startup sweep indexes the document and
 * the comment is found.
 */
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createThread } from '../../protocol/index.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { tempDir } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

describe('search index across kill -9', () => {
  const children: ChildServer[] = []
  const clients: TestClient[] = []
  const dirs: string[] = []
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy()
    for (const child of children.splice(0)) child.process.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('a comment acknowledged but not indexed when the process died is found after the restart', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const secret = newSecret()
    const env = { PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret }
    const first = await startChild({ ...env, PARLEY_FAULT: 'before-detection' })
    children.push(first)
    const ana = await connectSynced(first.webSocketUrl, 'comments/crash', await tokenFor(secret, 'ana'))
    clients.push(ana)
    const { commentId } = createThread({ doc: ana.doc, userId: 'ana' }, 'the wombat survived the crash')
    await acknowledged(ana)
    expect(await first.exited).toBeNull()

    const dead = new SqliteStorage(path.join(dataDir, 'parley.db'))
    expect(await dead.search.entries('crash')).toEqual([])
    expect(await dead.search.documentsToReindex()).toEqual(['comments/crash'])
    await dead.close()

    const second = await startChild(env)
    children.push(second)
    const token = await tokenFor(secret, 'ana')
    let found: string[] = []
    let polled = 0
    await waitFor(
      async () => {
        // At most ten polls a second: the user's REST rate is limited.
        if (Date.now() - polled < 100) return false
        polled = Date.now()
        const answer = await fetch(`${second.httpUrl}/api/v1/search?q=wombat`, { headers: { authorization: `Bearer ${token}` } })
        if (answer.status !== 200) return false
        found = ((await answer.json()) as { results: Array<{ commentId: string }> }).results.map((r) => r.commentId)
        return found.length > 0
      },
      'the comment found after the restart',
      15_000,
    )
    expect(found).toEqual([commentId])
  }, 60_000)
})
