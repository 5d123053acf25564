/**
 * The webhook senders (server/webhooks/sender.ts, threaded-sender.ts): on a worker thread (the
 * default) and on the calling thread, each signs and POSTs to a real receiver, and a close answers
 * what is still in flight with no answer (status null), so the loop leaves it pending.
 */
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { createInlineSender, type WebhookSender } from '../../server/webhooks/sender.ts'
import { createThreadedSender } from '../../server/webhooks/threaded-sender.ts'
import { startReceiver, type Receiver } from './receiver.ts'

const SECRET = 'sender-test-secret'
const body = (id: string) => JSON.stringify({ id, type: 'comment.created', createdAt: Date.now(), data: { n: id } })

describe.each([
  ['on a worker thread', (url: string) => createThreadedSender({ url, secret: SECRET, timeoutMs: 5_000 }, pino({ level: 'silent' }))],
  ['on the calling thread', (url: string) => createInlineSender({ url, secret: SECRET, timeoutMs: 5_000 })],
])('a webhook sender %s', (_, create: (url: string) => WebhookSender) => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })

  it('signs and sends every job, and answers each with its own status', async () => {
    const receiver: Receiver = await startReceiver(SECRET, (_n, event) => ({ status: event.id === 'e2' ? 503 : 200, headers: { 'retry-after': '7' } }))
    cleanup.push(() => receiver.close())
    const sender = create(receiver.url)
    cleanup.push(() => sender.close())
    sender.start()
    const now = Math.floor(Date.now() / 1000)
    const answers = await Promise.all(['e1', 'e2', 'e3'].map((id) => sender.send({ id, timestamp: now, body: body(id) })))
    expect(answers).toEqual([
      { status: 200, retryAfter: '7', error: null },
      { status: 503, retryAfter: '7', error: 'HTTP 503' },
      { status: 200, retryAfter: '7', error: null },
    ])
    expect(receiver.received.map((r) => [r.event.id, r.parleyValid, r.standardValid, r.headers['webhook-timestamp']]).sort()).toEqual(
      ['e1', 'e2', 'e3'].map((id) => [id, true, true, String(now)]),
    )
  })

  it('answers what is in flight with no answer when closed, and anything sent after', async () => {
    const receiver = await startReceiver(SECRET, () => 'hang')
    cleanup.push(() => receiver.close())
    const sender = create(receiver.url)
    const inFlight = sender.send({ id: 'h1', timestamp: Math.floor(Date.now() / 1000), body: body('h1') })
    const deadline = Date.now() + 5_000
    while (receiver.received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(receiver.received).toHaveLength(1)
    sender.close()
    expect(await inFlight).toMatchObject({ status: null })
    expect(await sender.send({ id: 'h2', timestamp: 0, body: body('h2') })).toMatchObject({ status: null })
    expect(receiver.received).toHaveLength(1)
  })
})
