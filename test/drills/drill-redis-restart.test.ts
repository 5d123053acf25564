/**
 * Drill: the Redis that links two Parley processes is killed under a steady write load and
 * started again (empty, on the same port). While it is away each instance keeps acknowledging
 * its own clients' writes and `/ready` answers 503 naming the redis check; once it is back every
 * document converges on both instances (same state vector, every acknowledged comment) — also a
 * document nobody writes to after Redis returns, and one first opened while Redis was away — and
 * storage holds every acknowledged comment.
 * The test owns its redis-server (test/helpers/owned-redis.ts); the instances are child processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStorage } from '../../server/storage/postgres/index.ts'
import type { ChildServer } from '../helpers/child.ts'
import { rebuild } from '../helpers/comments.ts'
import { missing, stateVector, Writer } from '../helpers/drill.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { startRedisDrill, type RedisDrill } from '../helpers/redis-drill.ts'
import { tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

/** Documents written on both instances through the whole drill. */
const BUSY_DOCUMENTS = 2
/** Acknowledged writes every writer makes in each phase (before, during, after the outage). */
const WRITES_PER_PHASE = 10
/** Failed reconnects (publisher and subscriber together) after which ioredis surely dropped its queue (maxRetriesPerRequest 3). */
const QUEUE_DROPPED_AFTER = 12
/** Redis restarting, ioredis' reconnect backoff and the resync take a few seconds on two cores. */
const RECOVERY_MS = 30_000

interface Readiness {
  status: number
  checks: Record<string, { ok: boolean }>
  message: string | undefined
}

async function readiness(instance: ChildServer): Promise<Readiness> {
  const response = await fetch(`${instance.httpUrl}/ready`)
  const body = (await response.json()) as { checks?: Readiness['checks']; error?: { message: string } }
  return { status: response.status, checks: body.checks ?? {}, message: body.error?.message }
}

describe('drill: Redis restarted under a steady write load', () => {
  let drill: RedisDrill | undefined
  beforeAll(async () => {
    drill = await startRedisDrill()
  }, 60_000)
  afterAll(async () => {
    await drill?.dispose()
  }, 60_000)

  it('keeps serving each instance’s clients, reports redis in /ready, and converges after it returns', async () => {
    if (!drill) throw new Error('setup failed')
    const { redis, schema, secret, one, two, writers, watchers } = drill
    const busy = Array.from({ length: BUSY_DOCUMENTS }, (_, i) => `busy${i}`)
    // `quiet` is written on instance one only while Redis is away; instance two has it loaded.
    const subjects = [...busy, 'quiet']
    const bySubject = new Map<string, Writer[]>()
    for (const subject of busy) {
      const pair = [
        await Writer.open(one.webSocketUrl, secret, `${subject}-one`, subject),
        await Writer.open(two.webSocketUrl, secret, `${subject}-two`, subject),
      ]
      writers.push(...pair)
      bySubject.set(subject, pair)
    }
    // Watchers: one idle client per document on each instance; they see what their instance holds.
    const watcherOf = new Map<string, TestClient>()
    for (const subject of subjects) {
      for (const [label, instance] of [['one', one] as const, ['two', two] as const]) {
        const watcher = await connectSynced(instance.webSocketUrl, `comments/${subject}`, await tokenFor(secret, `watcher-${label}`))
        watchers.push(watcher)
        watcherOf.set(`${subject}/${label}`, watcher)
      }
    }
    const watcher = (subject: string, label: 'one' | 'two') => watcherOf.get(`${subject}/${label}`)!

    const busyWriters = [...writers]
    for (const writer of busyWriters) writer.start()
    await Promise.all(writers.map((writer) => writer.waitForMore(WRITES_PER_PHASE)))
    // Linked: instance two's watcher sees instance one's writer.
    await waitFor(() => busy.every((subject) => missing(watcher(subject, 'two').doc, bySubject.get(subject)!.slice(0, 1)).length <= 1), 'relayed')
    expect((await readiness(one)).status).toBe(200)

    await redis.stop()
    await waitFor(async () => (await readiness(one)).status === 503 && (await readiness(two)).status === 503, '/ready answers 503 on both', RECOVERY_MS)
    const down = await readiness(one)
    expect(down.checks.redis?.ok).toBe(false)
    expect(down.checks.storage?.ok).toBe(true)
    expect(down.message).toContain('redis')

    // Each instance still acknowledges its own clients' writes, busy and quiet documents alike.
    const quietWriter = await Writer.open(one.webSocketUrl, secret, 'quiet-one', 'quiet')
    writers.push(quietWriter)
    bySubject.set('quiet', [quietWriter])
    for (let i = 0; i < WRITES_PER_PHASE; i++) await quietWriter.write()
    await Promise.all(busyWriters.map((writer) => writer.waitForMore(WRITES_PER_PHASE)))
    // Instance one's own watcher sees the quiet writes; instance two cannot while Redis is away.
    await waitFor(() => missing(watcher('quiet', 'one').doc, [quietWriter]).length === 0, 'instance one serves its own clients')
    expect(missing(watcher('quiet', 'two').doc, [quietWriter]).length).toBeGreaterThan(0)
    // A document no instance had loaded opens while Redis is away (from storage, which holds every acknowledged update).
    const freshOne = await Writer.open(one.webSocketUrl, secret, 'fresh-one', 'fresh')
    writers.push(freshOne)
    for (let i = 0; i < WRITES_PER_PHASE; i++) await freshOne.write()
    // Let ioredis give up on the publishes it queued meanwhile (it drops its offline queue every
    // few failed reconnects): what converges then is the resync, not a late queued publish.
    const mark = one.output().length
    const failedReconnects = () => one.output().slice(mark).split('"role":"hocuspocus"').length - 1
    await waitFor(() => failedReconnects() >= QUEUE_DROPPED_AFTER, 'instance one dropped its queued publishes', RECOVERY_MS)

    await redis.start()
    await waitFor(async () => (await readiness(one)).status === 200 && (await readiness(two)).status === 200, '/ready answers 200 again', RECOVERY_MS)
    await Promise.all(busyWriters.map((writer) => writer.waitForMore(WRITES_PER_PHASE)))
    await Promise.all(busyWriters.map((writer) => writer.stop()))

    // Instance one subscribed the fresh document when Redis came back: it hears instance two's writes.
    const freshTwo = await Writer.open(two.webSocketUrl, secret, 'fresh-two', 'fresh')
    writers.push(freshTwo)
    for (let i = 0; i < WRITES_PER_PHASE; i++) await freshTwo.write()
    await waitFor(() => missing(freshOne.handle.doc, [freshOne, freshTwo]).length === 0, 'instance one relays instance two’s writes on the fresh document')
    await waitFor(() => stateVector(freshOne.handle.doc) === stateVector(freshTwo.handle.doc), 'the fresh document converged')

    // Convergence: on both instances every document holds every acknowledged comment, and the
    // two instances' copies have the same state vector.
    const started = Date.now()
    await waitFor(
      () =>
        subjects.every((subject) => {
          const a = watcher(subject, 'one').doc
          const b = watcher(subject, 'two').doc
          const all = bySubject.get(subject)!
          return missing(a, all).length === 0 && missing(b, all).length === 0 && stateVector(a) === stateVector(b)
        }),
      'every document converged on both instances',
      RECOVERY_MS,
    )
    console.info(`converged ${Date.now() - started} ms after both instances were ready again`)
    for (const subject of subjects) expect(stateVector(watcher(subject, 'one').doc)).toBe(stateVector(watcher(subject, 'two').doc))

    const storage = await PostgresStorage.open({ url: schema.url })
    try {
      for (const subject of subjects) {
        const stored = rebuild(await storage.documents.load(`comments/${subject}`))
        expect(missing(stored, bySubject.get(subject)!), subject).toEqual([])
      }
      expect(missing(rebuild(await storage.documents.load('comments/fresh')), [freshOne, freshTwo])).toEqual([])
    } finally {
      await storage.close()
    }
    expect(writers.reduce((sum, writer) => sum + writer.acked.length, 0)).toBeGreaterThan(BUSY_DOCUMENTS * 2 * 3 * WRITES_PER_PHASE)
  }, 85_000)
})
