import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { addComment, addThread, commentTexts } from '../helpers/comments.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { tempDir } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'

/** Updates written one by one, each acknowledged, before the kill. */
const UPDATES = 500

describe('durability across kill -9', () => {
  const children: ChildServer[] = []
  const clients: TestClient[] = []
  const dirs: string[] = []
  /** A data directory and secret of the test's own, removed after it. */
  function freshEnvironment() {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const secret = newSecret()
    return { secret, env: { PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret } }
  }
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy()
    for (const child of children.splice(0)) child.process.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it(`keeps all ${UPDATES} acknowledged updates when the server is killed with SIGKILL`, async () => {
    const { env, secret } = freshEnvironment()
    const first = await startChild(env)
    children.push(first)
    const token = await tokenFor(secret, 'ana')
    const writer = await connectSynced(first.webSocketUrl, 'comments/kill9', token)
    clients.push(writer)
    addThread(writer.doc, 't1', 'ana')
    await acknowledged(writer)
    for (let i = 0; i < UPDATES; i++) {
      addComment(writer.doc, 't1', `c${i}`, 'ana', `update ${i}`)
      await acknowledged(writer)
    }
    writer.destroy()
    first.process.kill('SIGKILL')
    expect(await first.exited).toBeNull() // killed by a signal, not exited

    const second = await startChild(env)
    children.push(second)
    const reader = await connectSynced(second.webSocketUrl, 'comments/kill9', await tokenFor(secret, 'ben'))
    clients.push(reader)
    const texts = commentTexts(reader.doc, 't1')
    expect(texts).toHaveLength(UPDATES)
    expect(texts).toEqual(Array.from({ length: UPDATES }, (_, i) => `update ${i}`))
  }, 60_000)

  it('stops gracefully on SIGTERM with exit code 0, and the data is there after', async () => {
    const { env, secret } = freshEnvironment()
    const first = await startChild(env)
    children.push(first)
    const writer = await connectSynced(first.webSocketUrl, 'comments/term', await tokenFor(secret, 'ana'))
    clients.push(writer)
    addThread(writer.doc, 't1', 'ana')
    addComment(writer.doc, 't1', 'c1', 'ana', 'before SIGTERM')
    await acknowledged(writer)
    first.process.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(first.output()).toContain('"msg":"stopped"')

    const second = await startChild(env)
    children.push(second)
    const reader = await connectSynced(second.webSocketUrl, 'comments/term', await tokenFor(secret, 'ben'))
    clients.push(reader)
    expect(commentTexts(reader.doc, 't1')).toEqual(['before SIGTERM'])
  }, 30_000)
})
