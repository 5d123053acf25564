/**
 * `thread.created` across kill -9 (issue 17): the server dies after a new thread was acknowledged
 * and before it was detected (PARLEY_FAULT, test-only). The restart rescans the document, records
 * the thread's first comment and sends `thread.created`: once, and not again at the next start.
 */
import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { createThread } from '../../protocol/index.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { tempDir } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'
import { startReceiver } from './receiver.ts'

const SECRET = 'crash-webhook-secret'

describe('thread.created across kill -9', () => {
  const children: ChildServer[] = []
  const clients: TestClient[] = []
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    for (const child of children.splice(0)) child.process.kill('SIGKILL')
    for (const step of cleanup.splice(0).reverse()) await step()
  })

  it('is sent after the restart that detects the thread, once', async () => {
    const receiver = await startReceiver(SECRET, () => ({ status: 200 }))
    cleanup.push(() => receiver.close())
    const dataDir = tempDir()
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }))
    const secret = newSecret()
    const env = { PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret, PARLEY_WEBHOOK_URL: receiver.url, PARLEY_WEBHOOK_SECRET: SECRET }
    const threadsCreated = () => receiver.received.filter((r) => r.event.type === 'thread.created')

    const first = await startChild({ ...env, PARLEY_FAULT: 'before-detection' })
    children.push(first)
    const ana = await connectSynced(first.webSocketUrl, 'comments/crashed', await tokenFor(secret, 'ana'))
    clients.push(ana)
    const started = createThread({ doc: ana.doc, userId: 'ana' }, 'before the crash')
    await acknowledged(ana)
    expect(await first.exited).toBeNull()
    expect(threadsCreated()).toEqual([])

    const second = await startChild(env)
    children.push(second)
    // An event of the same subject the first server was still sending when it died keeps its claim
    // until the lease runs out (timeout 10 s + 5 s margin): order per subject holds thread.created behind it.
    await waitFor(() => threadsCreated().length === 1, 'thread.created after the restart', 30_000)
    expect(threadsCreated()[0]?.event.data).toEqual({ subjectId: 'crashed', threadId: started.threadId, commentId: started.commentId, authorId: 'ana' })
    second.process.kill('SIGTERM')
    expect(await second.exited).toBe(0)

    // the next start loads and opens the document again: nothing is announced twice
    const third = await startChild(env)
    children.push(third)
    const ben = await connectSynced(third.webSocketUrl, 'comments/crashed', await tokenFor(secret, 'ben'))
    clients.push(ben)
    createThread({ doc: ben.doc, userId: 'ben' }, 'after the restarts')
    await acknowledged(ben)
    await waitFor(() => threadsCreated().length === 2, 'the next thread’s event', 15_000)
    expect(threadsCreated().map((r) => r.event.data.authorId)).toEqual(['ana', 'ben'])
    // (other events may arrive twice: a shutdown aborts the POSTs in flight, sent again after the start)
    expect(new Set(threadsCreated().map((r) => r.event.id)).size).toBe(2)
  }, 60_000)
})
