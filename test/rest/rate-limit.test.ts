/**
 * The per-user REST rate limit on a real server: a burst of 50 requests passes, then about 20 a
 * second; beyond, 429 `rate_limited` with an integer `Retry-After` and the JSON error body. The
 * bucket is per user (another user is not slowed) and only on user routes (the backend is not).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REST_TARPIT_MAX_MS, USER_REST_BURST, USER_REST_RATE_PER_SECOND } from '../../server/http/rate-limit.ts'
import { TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

/** Requests sent at once by one user: well past the burst. */
const SENT = 120

describe('per-user REST rate limit', () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startServer({ apiKey: TEST_API_KEY })
  })
  afterAll(async () => {
    await s.dispose()
  })

  const call = (bearer: string, path = '/api/v1/notifications/unread-count') =>
    fetch(`${s.server.httpUrl}${path}`, { headers: { authorization: `Bearer ${bearer}` } })

  it('lets a burst of 50 through, then answers 429 rate_limited with Retry-After', async () => {
    const ana = await s.token('ana')
    const started = performance.now()
    const answers = await Promise.all(Array.from({ length: SENT }, () => call(ana)))
    const elapsedSeconds = (performance.now() - started) / 1000
    const ok = answers.filter((a) => a.status === 200)
    const limited = answers.filter((a) => a.status === 429)
    expect(ok.length + limited.length).toBe(SENT)
    expect(ok.length).toBeGreaterThanOrEqual(USER_REST_BURST)
    expect(ok.length).toBeLessThanOrEqual(USER_REST_BURST + Math.ceil(USER_REST_RATE_PER_SECOND * elapsedSeconds) + 1)
    expect(limited.length, `sent in ${elapsedSeconds.toFixed(2)} s`).toBeGreaterThan(0)
    for (const answer of limited) {
      expect(answer.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/)
      expect(answer.headers.get('content-type')).toMatch(/application\/json/)
      expect(await answer.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } })
    }
    for (const answer of ok) await answer.body?.cancel()

    // Another user has a bucket of their own; the backend is not limited per user.
    expect((await call(await s.token('ben'))).status).toBe(200)
    const backend = await Promise.all(Array.from({ length: USER_REST_BURST + 10 }, () => call(TEST_API_KEY, '/api/v1/subjects/any/presence')))
    expect(backend.map((a) => a.status)).toEqual(backend.map(() => 200))

    // After Retry-After the user is served again.
    const retryAfter = Number(limited[0]?.headers.get('retry-after'))
    const refused = Date.now()
    await waitFor(async () => (await call(ana)).status === 200, 'ana served again', (retryAfter + 2) * 1000)
    expect(Date.now() - refused).toBeLessThanOrEqual((retryAfter + 2) * 1000)
  })

  it('holds the 429s of a client that ignores Retry-After, so that its loop runs at our pace', async () => {
    const cy = await s.token('cy')
    // One at a time until the first refusal, which is answered at once.
    let firstTook = Number.POSITIVE_INFINITY
    for (let i = 0; i < USER_REST_BURST * 3 && firstTook === Number.POSITIVE_INFINITY; i++) {
      const started = performance.now()
      const answer = await call(cy)
      await answer.body?.cancel()
      if (answer.status === 429) firstTook = performance.now() - started
    }
    expect(firstTook).toBeLessThan(REST_TARPIT_MAX_MS / 2)
    // Then 10 loops that never wait, for 2 s: each answer is held, so few requests get through the door.
    const LOOPS = 10
    const RUN_MS = 2_000
    const until = performance.now() + RUN_MS
    let answered = 0
    let served = 0
    await Promise.all(
      Array.from({ length: LOOPS }, async () => {
        while (performance.now() < until) {
          const answer = await call(cy)
          answered++
          if (answer.status === 200) served++
          await answer.body?.cancel()
        }
      }),
    )
    // Without the hold these loops make thousands of requests in 2 s; with it, about one per loop per Retry-After.
    expect(answered, `${answered} answers, ${served} served`).toBeLessThanOrEqual(LOOPS * (RUN_MS / REST_TARPIT_MAX_MS + 2) + USER_REST_RATE_PER_SECOND * 3)
    expect(served).toBeLessThanOrEqual(USER_REST_RATE_PER_SECOND * 3 + 1)
    // Another user is not held.
    const other = await call(await s.token('dee'))
    expect(other.status).toBe(200)
    await other.body?.cancel()
  })

  it('documents 429 on every user route, not on backend-only routes', async () => {
    const doc = (await (await fetch(`${s.server.httpUrl}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security: Array<Record<string, unknown>> }>>
    }
    let users = 0
    for (const operations of Object.values(doc.paths)) {
      for (const operation of Object.values(operations)) {
        const forUsers = operation.security.some((scheme) => 'userToken' in scheme)
        expect('429' in operation.responses).toBe(forUsers)
        if (forUsers) users++
      }
    }
    expect(users).toBeGreaterThan(5)
  })
})
