/**
 * Several instances share the webhook outbox (issue 17): two Parley servers on one PostgreSQL
 * schema (and Redis) deliver every event once and in order per subject, whichever recorded it;
 * an instance killed with SIGKILL in the middle of a POST leaves its claim, and the other one
 * sends the event once the claim has run out.
 */
import { rmSync } from 'node:fs'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { WEBHOOK_LEASE_MARGIN_MS, WEBHOOK_TIMEOUT_MS } from '../../server/webhooks/index.ts'
import { startChild } from '../helpers/child.ts'
import { createTestSchema } from '../helpers/postgres.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { REDIS_URL } from '../helpers/services.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'
import { startReceiver, type Answer } from './receiver.ts'

const SECRET = 'instances-webhook-secret'
const SUBJECTS = 10
const EVENTS_PER_SUBJECT = 20

async function sentCount(s: TestServer): Promise<number> {
  const text = await s.server.metrics.registry.metrics()
  return Number(/^parley_webhook_attempts_total\{outcome="sent"\} (\d+)/m.exec(text)?.[1] ?? 0)
}

describe('webhooks: two instances on one PostgreSQL database', () => {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })

  it('deliver each event once, in order per subject, both instances sending', async () => {
    const schema = await createTestSchema()
    cleanup.push(() => schema.drop())
    // every fifth event fails once: retried (by whichever instance claims it next), still in order
    const answered = new Map<string, number>()
    const accepted: string[] = []
    const receiver = await startReceiver(SECRET, (_, event): Answer => {
      const seen = answered.get(event.id) ?? 0
      answered.set(event.id, seen + 1)
      if (seen === 0 && Number(event.id.split('-')[2]) % 5 === 0) return { status: 500 }
      accepted.push(event.id)
      return { status: 200 }
    })
    cleanup.push(() => receiver.close())
    const options = {
      databaseUrl: schema.url,
      redisUrl: REDIS_URL,
      webhook: { url: receiver.url, secret: SECRET },
      webhooks: { schedule: [0, 20, 20, 20], pollMs: 20, concurrency: 4 },
    }
    const one = await startServer(options)
    cleanup.push(() => one.dispose())
    const two = await startServer(options)
    cleanup.push(() => two.dispose())

    // subjects alternate between the instances; each instance records its subjects' events in order
    for (let n = 0; n < EVENTS_PER_SUBJECT; n++) {
      for (let s = 0; s < SUBJECTS; s++) {
        const instance = s % 2 === 0 ? one : two
        instance.server.events.emit('thread.resolved', { subjectId: `s${s}`, threadId: 't', userId: null }, `e-${s}-${n}`)
      }
    }
    const total = SUBJECTS * EVENTS_PER_SUBJECT
    await waitFor(async () => (await sentCount(one)) + (await sentCount(two)) >= total, 'every event delivered', 30_000)

    const ids = accepted
    expect(ids).toHaveLength(total)
    expect(new Set(ids).size).toBe(total)
    // no event was sent more often than its answers asked for: once, or twice after its 500
    for (const [id, times] of answered) expect(times, id).toBe(Number(id.split('-')[2]) % 5 === 0 ? 2 : 1)
    for (let s = 0; s < SUBJECTS; s++) {
      const order = receiver.received.filter((r) => r.event.id.startsWith(`e-${s}-`)).map((r) => Number(r.event.id.split('-')[2]))
      const firsts = order.filter((n, i) => order.indexOf(n) === i)
      expect(firsts, `subject s${s}`).toEqual(Array.from({ length: EVENTS_PER_SUBJECT }, (_, n) => n))
      // a retried event is sent again before anything later of its subject
      for (let i = 1; i < order.length; i++) expect(order[i] ?? 0).toBeGreaterThanOrEqual(order[i - 1] ?? 0)
    }
    expect(await sentCount(one)).toBeGreaterThan(0)
    expect(await sentCount(two)).toBeGreaterThan(0)
    expect(await sentCount(one)).toBeLessThan(total)
  })

  it('take over the events of an instance killed in the middle of a POST once its claim has run out', async () => {
    const schema = await createTestSchema()
    cleanup.push(() => schema.drop())
    let hang = true
    const receiver = await startReceiver(SECRET, (): Answer => (hang ? 'hang' : { status: 200 }))
    cleanup.push(() => receiver.close())
    const secret = newSecret()
    const dataDir = tempDir()
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }))
    const child = await startChild({
      PARLEY_DATA_DIR: dataDir,
      PARLEY_JWT_SECRET: secret,
      DATABASE_URL: schema.url,
      PARLEY_WEBHOOK_URL: receiver.url,
      PARLEY_WEBHOOK_SECRET: SECRET,
    })
    cleanup.push(async () => void child.process.kill('SIGKILL'))
    const token = await tokenFor(secret, 'ana')
    const post = async (path: string, body: string) => {
      const response = await fetch(`${child.httpUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ body }),
      })
      expect(response.status).toBe(201)
      return (await response.json()) as { threadId: string; commentId: string }
    }
    const thread = await post('/api/v1/subjects/killed/threads', 'first')
    await post(`/api/v1/subjects/killed/threads/${thread.threadId}/comments`, 'second')
    // the child's POST of its first event hangs; then the child dies without a word, once the second
    // comment's event is in the outbox too (an event is recorded just after its write is acknowledged)
    await waitFor(() => receiver.received.length === 1, 'the child to send its first event')
    const outbox = new pg.Client({ connectionString: schema.url })
    await outbox.connect()
    cleanup.push(() => outbox.end())
    const recordedComments = async () =>
      Number((await outbox.query<{ n: string }>(`SELECT count(*) AS n FROM webhooks WHERE type = 'comment.created'`)).rows[0]?.n)
    await waitFor(async () => (await recordedComments()) === 2, 'both comments in the outbox')
    const claimedAt = Date.now()
    const first = receiver.received[0]?.event
    expect(first).toMatchObject({ type: 'comment.created', data: { subjectId: 'killed', text: 'first' } })
    child.process.kill('SIGKILL')
    await child.exited
    hang = false

    const survivor = await startServer({ databaseUrl: schema.url, webhook: { url: receiver.url, secret: SECRET }, webhooks: { pollMs: 50 } })
    cleanup.push(() => survivor.dispose())
    const lease = WEBHOOK_TIMEOUT_MS + WEBHOOK_LEASE_MARGIN_MS
    const received = () => JSON.stringify(receiver.received.map((r) => [r.event.type, r.event.data.text]))
    await waitFor(() => receiver.received.some((r) => r.event.data.text === 'second'), 'the survivor to send both events', lease + 15_000).catch(
      (error: unknown) => {
        throw new Error(`${String(error)}; received ${received()}`)
      },
    )
    const again = receiver.received.findIndex((r, i) => i > 0 && r.event.id === first?.id)
    expect(again).toBe(1)
    // not before the child's claim ran out (the child claimed a little before it was seen)
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(lease - 1_000)
    // (thread.created and feed.item.created of the thread are subject events too, after the first comment)
    const comments = receiver.received.filter((r) => r.event.type === 'comment.created')
    expect(comments.map((r) => r.event.data.text)).toEqual(['first', 'first', 'second'])
    expect(receiver.received.findIndex((r) => r.event.data.text === 'second')).toBeGreaterThan(again)
    expect(await survivor.server.storage.webhooks.get(first?.id ?? '')).toMatchObject({ status: 'sent', attempts: 1 })
  }, 60_000)
})
