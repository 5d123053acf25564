/**
 * Webhooks end to end (issue 17): a real Parley server on each storage backend POSTs its events to
 * a real receiver on loopback that verifies both signature styles.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Webhook } from 'standardwebhooks'
import { BACKENDS } from '../access/backends.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import type { TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { parleySignature, standardSignature } from '../../core/webhooks/signing.ts'
import { standardKey, startReceiver, verifyParley, type Answer, type Receiver } from './receiver.ts'

const SECRET = 'webhook-secret-for-tests'
/** A shortened schedule: at once, then three retries 50 ms apart, then dead. */
const SCHEDULE = [0, 50, 50, 50]

describe.each(BACKENDS)('webhooks: $name', (backend) => {
  let s: TestServer | undefined
  let receiver: Receiver | undefined
  afterEach(async () => {
    await s?.dispose()
    await receiver?.close()
    s = undefined
    receiver = undefined
  })

  async function start(answer: (n: number, event: { id: string; type: string; data: Record<string, unknown> }) => Answer, timeoutMs = 2_000) {
    receiver = await startReceiver(SECRET, answer)
    s = await backend.startServer({
      apiKey: TEST_API_KEY,
      webhook: { url: receiver.url, secret: SECRET },
      webhooks: { schedule: SCHEDULE, timeoutMs, pollMs: 50 },
    })
    return { s, receiver }
  }

  it('POSTs a REST-created comment, signed both ways; a 500 is retried and the event is delivered once', async () => {
    const { s, receiver } = await start((n) => ({ status: n === 1 ? 500 : 200 }))
    const token = await s.token('ana')
    const created = await rest<{ threadId: string; commentId: string }>(s, 'POST', '/api/v1/subjects/doc1/threads', { bearer: token, json: { body: 'hello' } })
    expect(created.status).toBe(201)
    await waitFor(() => receiver.received.length >= 2, 'the retry after a 500')
    const [first, second] = receiver.received
    expect(first?.event.id).toBe(second?.event.id)
    expect(second?.event).toMatchObject({ type: 'comment.created', data: { subjectId: 'doc1', authorId: 'ana', text: 'hello' } })
    expect(Object.keys(second?.event ?? {}).sort()).toEqual(['createdAt', 'data', 'id', 'type'])
    for (const r of receiver.received) {
      expect(r.parleyValid).toBe(true)
      expect(r.standardValid).toBe(true)
      expect(r.headers['webhook-id']).toBe(r.event.id)
    }
    await waitFor(async () => (await s.server.storage.webhooks.get(second?.event.id ?? ''))?.status === 'sent', 'recorded as sent')
    expect(await s.server.storage.webhooks.get(second?.event.id ?? '')).toMatchObject({ attempts: 2, lastError: null })
    // delivered once: no more POSTs of it after the 200
    s.server.events.emit('thread.resolved', { subjectId: 'doc1', threadId: created.body.threadId, userId: 'ana' })
    await waitFor(() => receiver.received.some((r) => r.event.type === 'thread.resolved'), 'the next event')
    expect(receiver.received.filter((r) => r.event.type === 'comment.created')).toHaveLength(2)
  })

  it('gives up on a receiver that never answers: dead in storage, in /api/v1/deliveries and in the metrics', async () => {
    const { s, receiver } = await start(() => 'hang', 200)
    s.server.events.emit('thread.resolved', { subjectId: 'quiet', threadId: 't1', userId: null }, 'evt_dead')
    await waitFor(async () => (await s.server.storage.webhooks.get('evt_dead'))?.status === 'dead', 'the event to die')
    expect(receiver.received).toHaveLength(SCHEDULE.length)
    const dead = await rest<{ deliveries: Array<Record<string, unknown>> }>(s, 'GET', '/api/v1/deliveries?status=dead', { bearer: TEST_API_KEY })
    expect(dead.body.deliveries).toEqual([
      expect.objectContaining({ channel: 'webhook', notificationId: 'evt_dead', userId: '', deviceId: null, status: 'dead', attempts: SCHEDULE.length }),
    ])
    const metrics = await s.server.metrics.registry.metrics()
    expect(metrics).toMatch(/parley_webhook_dead_total 1/)
    expect(metrics).toMatch(/parley_webhook_attempts_total\{outcome="no_answer"\} 4/)
    // the backend retries it: back in the outbox, tried again from the start of the schedule
    const id = String(dead.body.deliveries[0]?.id)
    expect((await rest(s, 'POST', `/api/v1/deliveries/${id}/retry`, { bearer: TEST_API_KEY })).status).toBe(202)
    await waitFor(() => receiver.received.length > SCHEDULE.length, 'the retried event')
    expect(receiver.received.at(-1)?.event.id).toBe('evt_dead')
  })

  it('keeps order per subject across retries, and a failing subject does not hold another', async () => {
    let failures = 2
    const { s, receiver } = await start((_, event) => {
      if (event.id === 'a1' && failures > 0) {
        failures--
        return { status: 503, headers: { 'retry-after': '0' } }
      }
      return { status: 200 }
    })
    s.server.events.emit('thread.resolved', { subjectId: 'A', threadId: 't', userId: null }, 'a1')
    s.server.events.emit('thread.resolved', { subjectId: 'A', threadId: 't', userId: null }, 'a2')
    s.server.events.emit('thread.resolved', { subjectId: 'B', threadId: 't', userId: null }, 'b1')
    s.server.events.emit('thread.resolved', { subjectId: 'A', threadId: 't', userId: null }, 'a3')
    await waitFor(() => ['a3', 'b1'].every((id) => receiver.received.some((r) => r.event.id === id)), 'every event')
    const ids = receiver.received.map((r) => r.event.id)
    expect(ids.filter((id) => id.startsWith('a'))).toEqual(['a1', 'a1', 'a1', 'a2', 'a3'])
    expect(ids.indexOf('b1')).toBeLessThan(ids.lastIndexOf('a1'))
  })

  it('pauses the endpoint on 410 and logs it; resume() delivers again', async () => {
    let gone = true
    const { s, receiver } = await start(() => ({ status: gone ? 410 : 200 }))
    s.server.events.emit('thread.resolved', { subjectId: 'G', threadId: 't', userId: null }, 'g1')
    await waitFor(() => s.server.webhooks?.paused === true, 'the pause')
    expect(await s.server.metrics.registry.metrics()).toMatch(/parley_webhook_paused 1/)
    gone = false
    s.server.webhooks?.resume()
    await waitFor(async () => (await s.server.storage.webhooks.get('g1'))?.status === 'sent', 'delivery after resume')
    expect(receiver.received.map((r) => r.event.id)).toEqual(['g1', 'g1'])
  })
})

describe('webhook signatures', () => {
  it('a replayed body with an old timestamp is detectable by both styles', () => {
    {
      const body = JSON.stringify({ id: 'evt_old', type: 'thread.resolved', createdAt: 1, data: {} })
      const old = Math.floor(Date.now() / 1000) - 600
      expect(verifyParley(SECRET, parleySignature(SECRET, old, body), body)).toBe(false)
      expect(verifyParley(SECRET, parleySignature(SECRET, old + 600, body), body)).toBe(true)
      const headers = { 'webhook-id': 'evt_old', 'webhook-timestamp': String(old), 'webhook-signature': standardSignature(SECRET, 'evt_old', old, body) }
      expect(() => new Webhook(standardKey(SECRET)).verify(body, headers)).toThrow(/too old/i)
      const whsec = `whsec_${Buffer.from('raw key bytes').toString('base64')}`
      const fresh = Math.floor(Date.now() / 1000)
      expect(() =>
        new Webhook(whsec).verify(body, {
          'webhook-id': 'evt_old',
          'webhook-timestamp': String(fresh),
          'webhook-signature': standardSignature(whsec, 'evt_old', fresh, body),
        }),
      ).not.toThrow()
    }
  })
})
