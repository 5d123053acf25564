/**
 * Drill: the PostgreSQL under two Redis-linked Parley processes is stopped (immediate, as a crash)
 * while clients on both write, and started again. While it is down neither instance acknowledges
 * a write and both answer `/ready` 503 naming storage; afterwards the clients' refused writes are
 * resent and stored, both instances converge, and storage holds every acknowledged comment.
 * (test/integration/outage-postgres.test.ts is the single-instance version, with the SDK's error.)
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStorage } from '../../server/storage/postgres/index.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { rebuild } from '../helpers/comments.ts'
import { closeWriters, missing, stateVector, Writer } from '../helpers/drill.ts'
import { startOwnedPostgres, type OwnedPostgres } from '../helpers/postgres.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { tempDir } from '../helpers/server.ts'
import { REDIS_URL } from '../helpers/services.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

/** Acknowledged writes every writer makes before the outage and again after it. */
const WRITES_PER_PHASE = 10
/** Restarting PostgreSQL and the clients' reconnect backoff take a few seconds on two cores. */
const RECOVERY_MS = 30_000

async function appendErrors(instance: ChildServer): Promise<number> {
  const text = await (await fetch(`${instance.httpUrl}/metrics`)).text()
  return Number(/^parley_storage_errors_total\{operation="append"\} (\d+)/m.exec(text)?.[1] ?? 0)
}

async function readiness(instance: ChildServer): Promise<{ status: number; storageOk: boolean | undefined }> {
  const response = await fetch(`${instance.httpUrl}/ready`)
  const body = (await response.json()) as { checks?: Record<string, { ok: boolean }> }
  return { status: response.status, storageOk: body.checks?.storage?.ok }
}

describe('drill: PostgreSQL restarted under two instances', () => {
  let postgres: OwnedPostgres | undefined
  const instances: ChildServer[] = []
  const writers: Writer[] = []
  const readers: TestClient[] = []
  const dirs: string[] = []
  const secret = newSecret()
  const subject = `pg-drill-${Math.random().toString(36).slice(2, 8)}`

  beforeAll(async () => {
    postgres = await startOwnedPostgres()
    const env = () => {
      const dataDir = tempDir()
      dirs.push(dataDir)
      return { PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret, DATABASE_URL: postgres!.url, REDIS_URL }
    }
    // One first: it runs the migrations.
    instances.push(await startChild(env()))
    instances.push(await startChild(env()))
  }, 120_000)

  afterAll(async () => {
    for (const reader of readers.splice(0)) reader.destroy()
    await closeWriters(writers.splice(0))
    for (const instance of instances.splice(0)) instance.process.kill('SIGKILL')
    await Promise.all(instances.map((instance) => instance.exited))
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
    await postgres?.dispose()
  }, 60_000)

  it('acknowledges nothing while it is down and loses nothing acknowledged', async () => {
    const [one, two] = instances
    if (!postgres || !one || !two) throw new Error('setup failed')
    writers.push(await Writer.open(one.webSocketUrl, secret, 'ana', subject), await Writer.open(two.webSocketUrl, secret, 'ben', subject))
    for (const writer of writers) writer.start()
    await Promise.all(writers.map((writer) => writer.waitForMore(WRITES_PER_PHASE)))

    const errorsBefore = await Promise.all(instances.map(appendErrors))
    await postgres.stop('immediate')
    await waitFor(async () => (await readiness(one)).status === 503 && (await readiness(two)).status === 503, '/ready answers 503 on both', RECOVERY_MS)
    expect(await readiness(one)).toEqual({ status: 503, storageOk: false })
    const ackedWhileDown = writers.map((writer) => writer.acked.length)
    // Each writer's next write reaches its instance and is refused there, unacknowledged.
    await waitFor(
      async () => (await Promise.all(instances.map(appendErrors))).every((errors, i) => errors > (errorsBefore[i] ?? 0)),
      'both instances refused an append',
      RECOVERY_MS,
    )
    expect(writers.map((writer) => writer.acked.length)).toEqual(ackedWhileDown)
    expect(writers.every((writer) => writer.inFlight !== undefined)).toBe(true)

    await postgres.start()
    await waitFor(async () => (await readiness(one)).status === 200 && (await readiness(two)).status === 200, '/ready answers 200 again', RECOVERY_MS)
    await Promise.all(writers.map((writer) => writer.waitForMore(WRITES_PER_PHASE, RECOVERY_MS)))
    await Promise.all(writers.map((writer) => writer.stop()))

    for (const instance of instances) {
      const reader = await connectSynced(instance.webSocketUrl, `comments/${subject}`, await tokenFor(secret, 'cy'))
      readers.push(reader)
      await waitFor(() => missing(reader.doc, writers).length === 0, `${instance.httpUrl} holds every acknowledged comment`, RECOVERY_MS)
    }
    await waitFor(() => stateVector(readers[0]!.doc) === stateVector(readers[1]!.doc), 'both instances converged')

    const storage = await PostgresStorage.open({ url: postgres.url })
    try {
      expect(missing(rebuild(await storage.documents.load(`comments/${subject}`)), writers)).toEqual([])
    } finally {
      await storage.close()
    }
  }, 85_000)
})
