/** Webhooks are durable (issue 17): events recorded while the receiver fails are delivered after a restart. */
import { afterEach, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { startReceiver, type Receiver } from './receiver.ts'

const SECRET = 'restart-webhook-secret'

describe('webhooks across a restart', () => {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })

  it('sends after the restart what was still pending before it (a POST cut by the shutdown included), in order', async () => {
    const dataDir = tempDir('parley-webhook-restart-')
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }))
    let up = false
    const receiver: Receiver = await startReceiver(SECRET, () => (up ? { status: 200 } : 'hang'))
    cleanup.push(() => receiver.close())
    // the receiver hangs: the shutdown aborts the POST in flight, which stays pending
    const options = { dataDir, webhook: { url: receiver.url, secret: SECRET }, webhooks: { timeoutMs: 30_000, pollMs: 50 } }
    const first: TestServer = await startServer(options)
    for (const id of ['r1', 'r2', 'r3']) first.server.events.emit('thread.resolved', { subjectId: 'R', threadId: 't', userId: null }, id)
    await waitFor(() => receiver.received.length === 1, 'the first attempt')
    await first.stop()

    up = true
    const second = await startServer(options)
    cleanup.push(() => second.stop())
    await waitFor(async () => (await second.server.storage.webhooks.get('r3'))?.status === 'sent', 'every pending event')
    expect(receiver.received.map((r) => r.event.id)).toEqual(['r1', 'r1', 'r2', 'r3'])
  })
})
