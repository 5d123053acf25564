/**
 * Drill: one of two Parley processes behind a load balancer (round-robin, no sticky sessions) is
 * killed with SIGKILL while its clients write. Their SDK clients reconnect through the balancer
 * to the other instance by themselves, resend what was not acknowledged, and nothing acknowledged
 * is lost: the surviving instance and storage hold every acknowledged comment.
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStorage } from '../../server/storage/postgres/index.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { rebuild } from '../helpers/comments.ts'
import { closeWriters, missing, stateVector, Writer } from '../helpers/drill.ts'
import { createTestSchema, type TestSchema } from '../helpers/postgres.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { tempDir } from '../helpers/server.ts'
import { REDIS_URL } from '../helpers/services.ts'
import { startBalancer, type Balancer } from '../helpers/tcp-balancer.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

/** Documents, each with two writers (the balancer puts one on each instance). */
const SUBJECTS = ['kill-a', 'kill-b']
/** Acknowledged writes every writer makes before the kill and again after it. */
const WRITES_PER_PHASE = 15

describe('drill: an instance killed with -9 mid-stream', () => {
  let schema: TestSchema | undefined
  let balancer: Balancer | undefined
  const instances: ChildServer[] = []
  const writers: Writer[] = []
  const readers: TestClient[] = []
  const dirs: string[] = []
  const secret = newSecret()
  const run = Math.random().toString(36).slice(2, 8)

  beforeAll(async () => {
    schema = await createTestSchema()
    const env = () => {
      const dataDir = tempDir()
      dirs.push(dataDir)
      return { PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret, DATABASE_URL: schema!.url, REDIS_URL }
    }
    instances.push(...(await Promise.all([startChild(env()), startChild(env())])))
    balancer = await startBalancer(instances.map((instance) => instance.port))
  }, 60_000)

  afterAll(async () => {
    for (const reader of readers.splice(0)) reader.destroy()
    await closeWriters(writers.splice(0))
    await balancer?.close()
    for (const instance of instances.splice(0)) instance.process.kill('SIGKILL')
    await Promise.all(instances.map((instance) => instance.exited))
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
    await schema?.drop()
  }, 60_000)

  it('moves the killed instance’s clients to the other one and loses nothing acknowledged', async () => {
    const [one, two] = instances
    if (!schema || !balancer || !one || !two) throw new Error('setup failed')
    const bySubject = new Map<string, Writer[]>()
    for (const subject of SUBJECTS) {
      const pair: Writer[] = []
      for (const n of [0, 1]) pair.push(await Writer.open(balancer.url, secret, `${subject}-w${n}`, `${subject}-${run}`))
      writers.push(...pair)
      bySubject.set(subject, pair)
    }
    // Round-robin gave each instance half the writers.
    expect(balancer.counts.get(one.port)).toBe(SUBJECTS.length)
    expect(balancer.counts.get(two.port)).toBe(SUBJECTS.length)

    for (const writer of writers) writer.start()
    await Promise.all(writers.map((writer) => writer.waitForMore(WRITES_PER_PHASE)))

    one.process.kill('SIGKILL')
    await one.exited
    // Every writer goes on: those of instance one reconnect through the balancer to instance two.
    await Promise.all(writers.map((writer) => writer.waitForMore(WRITES_PER_PHASE)))
    expect(balancer.counts.get(two.port)).toBeGreaterThanOrEqual(2 * SUBJECTS.length)
    await Promise.all(writers.map((writer) => writer.stop()))

    // The surviving instance holds every acknowledged comment, and agrees with each writer.
    for (const subject of SUBJECTS) {
      const pair = bySubject.get(subject)!
      const reader = await connectSynced(two.webSocketUrl, `comments/${subject}-${run}`, await tokenFor(secret, 'reader'))
      readers.push(reader)
      await waitFor(() => missing(reader.doc, pair).length === 0, `${subject}: instance two holds every acknowledged comment`)
      await waitFor(() => pair.every((writer) => stateVector(writer.handle.doc) === stateVector(reader.doc)), `${subject}: writers and instance two agree`)
    }

    const storage = await PostgresStorage.open({ url: schema.url })
    try {
      for (const subject of SUBJECTS) {
        const stored = rebuild(await storage.documents.load(`comments/${subject}-${run}`))
        expect(missing(stored, bySubject.get(subject)!), subject).toEqual([])
      }
    } finally {
      await storage.close()
    }
    expect(writers.every((writer) => writer.acked.length > 2 * WRITES_PER_PHASE)).toBe(true)
  }, 85_000)
})
