/**
 * Drill: two Parley processes start while their Redis is down (e.g. a stack whose Redis starts
 * last). They serve `/ready` 503 naming redis; once Redis is up they answer 200, open documents
 * and relay each other's updates, with no restart of their own.
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { closeWriters, missing, Writer } from '../helpers/drill.ts'
import { startOwnedRedis, type OwnedRedis } from '../helpers/owned-redis.ts'
import { createTestSchema, type TestSchema } from '../helpers/postgres.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { tempDir } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

/** Redis starting and ioredis' reconnect backoff (up to 2 s between attempts). */
const RECOVERY_MS = 30_000

async function readyStatus(instance: ChildServer): Promise<{ status: number; redisOk: boolean | undefined }> {
  const response = await fetch(`${instance.httpUrl}/ready`)
  const body = (await response.json()) as { checks?: Record<string, { ok: boolean }> }
  return { status: response.status, redisOk: body.checks?.redis?.ok }
}

describe('drill: instances started before their Redis', () => {
  let redis: OwnedRedis | undefined
  let schema: TestSchema | undefined
  const instances: ChildServer[] = []
  const writers: Writer[] = []
  const watchers: TestClient[] = []
  const dirs: string[] = []
  const secret = newSecret()

  beforeAll(async () => {
    redis = await startOwnedRedis()
    await redis.stop()
    schema = await createTestSchema()
    const env = () => {
      const dataDir = tempDir()
      dirs.push(dataDir)
      return { PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret, DATABASE_URL: schema!.url, REDIS_URL: redis!.url }
    }
    instances.push(...(await Promise.all([startChild(env()), startChild(env())])))
  }, 60_000)

  afterAll(async () => {
    for (const watcher of watchers.splice(0)) watcher.destroy()
    await closeWriters(writers.splice(0))
    for (const instance of instances.splice(0)) instance.process.kill('SIGKILL')
    await Promise.all(instances.map((instance) => instance.exited))
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
    await redis?.dispose()
    await schema?.drop()
  }, 60_000)

  it('reports redis until it is up, then serves and relays documents', async () => {
    const [one, two] = instances
    if (!redis || !one || !two) throw new Error('setup failed')
    // Long enough down for ioredis to give up on the commands queued at start.
    await waitFor(() => one.output().split('"role":"hocuspocus"').length > 12, 'instance one failed to reach redis a few times', RECOVERY_MS)
    expect(await readyStatus(one)).toEqual({ status: 503, redisOk: false })

    await redis.start()
    await waitFor(async () => (await readyStatus(one)).status === 200 && (await readyStatus(two)).status === 200, '/ready answers 200', RECOVERY_MS)
    const writer = await Writer.open(one.webSocketUrl, secret, 'ana', 'late')
    writers.push(writer)
    const watcher = await connectSynced(two.webSocketUrl, 'comments/late', await tokenFor(secret, 'ben'))
    watchers.push(watcher)
    for (let i = 0; i < 5; i++) await writer.write()
    await waitFor(() => missing(watcher.doc, [writer]).length === 0, 'instance two relays every comment written on instance one')
    expect(writer.acked).toHaveLength(6)
  }, 85_000)
})
