/** A receiver that never answers does not slow the server down (issue 17): REST writes and their events go on. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { startReceiver, type Receiver } from './receiver.ts'

const SECRET = 'whsec_' + Buffer.from('isolation-key').toString('base64')
/** Writes made while the receiver hangs; each must answer well within the webhook timeout. */
const WRITES = 20
const WEBHOOK_TIMEOUT_MS = 30_000
const WRITE_BUDGET_MS = 2_000

describe('webhooks: a hanging receiver', () => {
  let s: TestServer
  let receiver: Receiver
  beforeAll(async () => {
    receiver = await startReceiver(SECRET, () => 'hang')
    s = await startServer({ apiKey: TEST_API_KEY, webhook: { url: receiver.url, secret: SECRET }, webhooks: { timeoutMs: WEBHOOK_TIMEOUT_MS, concurrency: 4 } })
  })
  afterAll(async () => {
    await s.dispose()
    await receiver.close()
  })

  it('never delays REST writes; at most `concurrency` POSTs are in flight, and the rest wait recorded', async () => {
    const token = await s.token('ana')
    for (let i = 0; i < WRITES; i++) {
      const started = Date.now()
      const answer = await rest(s, 'POST', `/api/v1/subjects/iso${i}/threads`, { bearer: token, json: { body: `n${i}` } })
      expect(answer.status).toBe(201)
      expect(Date.now() - started).toBeLessThan(WRITE_BUDGET_MS)
    }
    await waitFor(() => receiver.received.length === 4, 'four POSTs in flight')
    expect(receiver.received.every((r) => r.standardValid && r.parleyValid)).toBe(true)
    expect(await s.server.storage.webhooks.nextDue()).not.toBeNull()
  })
})
