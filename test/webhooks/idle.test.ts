/**
 * The webhook loop does not spin (issue 17): an event held behind an earlier one of its subject
 * (retried minutes later) is looked at once per poll period, not in a tight loop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { startReceiver, type Receiver } from './receiver.ts'

const SECRET = 'idle-webhook-secret'
const POLL_MS = 50
/** How long the held state is watched, and the most outbox reads allowed in it (one per poll, with room). */
const WATCH_MS = 1_000
const MAX_READS = (WATCH_MS / POLL_MS) * 3

describe('webhooks: an event held behind its subject', () => {
  let s: TestServer
  let receiver: Receiver
  beforeAll(async () => {
    receiver = await startReceiver(SECRET, () => ({ status: 500 }))
    s = await startServer({ webhook: { url: receiver.url, secret: SECRET }, webhooks: { schedule: [0, 600_000], pollMs: POLL_MS } })
  })
  afterAll(async () => {
    await s.dispose()
    await receiver.close()
  })

  it('is not looked for in a tight loop while the first waits for its retry', async () => {
    s.server.events.emit('thread.resolved', { subjectId: 'H', threadId: 't', userId: null }, 'h1')
    s.server.events.emit('thread.resolved', { subjectId: 'H', threadId: 't', userId: null }, 'h2')
    await waitFor(async () => (await s.server.storage.webhooks.get('h1'))?.attempts === 1, 'the first attempt of h1')
    const store = s.server.storage.webhooks
    const claim = store.claim.bind(store)
    let reads = 0
    store.claim = (...args) => {
      reads++
      return claim(...args)
    }
    const until = Date.now() + WATCH_MS
    await waitFor(() => Date.now() > until, 'the watch window', WATCH_MS * 2)
    store.claim = claim
    expect(reads).toBeGreaterThan(0)
    expect(reads).toBeLessThan(MAX_READS)
    expect(receiver.received.map((r) => r.event.id)).toEqual(['h1'])
  })
})
