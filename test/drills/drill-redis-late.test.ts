/**
 * Drill: two Parley processes start while their Redis is down (e.g. a stack whose Redis starts
 * last). They serve `/ready` 503 naming redis; once Redis is up they answer 200, open documents
 * and relay each other's updates, with no restart of their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChildServer } from '../helpers/child.ts'
import { missing, Writer } from '../helpers/drill.ts'
import { connectSynced } from '../helpers/provider.ts'
import { startRedisDrill, type RedisDrill } from '../helpers/redis-drill.ts'
import { tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

/** Redis starting and ioredis' reconnect backoff (up to 2 s between attempts). */
const RECOVERY_MS = 30_000

async function readyStatus(instance: ChildServer): Promise<{ status: number; redisOk: boolean | undefined }> {
  const response = await fetch(`${instance.httpUrl}/ready`)
  const body = (await response.json()) as { checks?: Record<string, { ok: boolean }> }
  return { status: response.status, redisOk: body.checks?.redis?.ok }
}

describe('drill: instances started before their Redis', () => {
  let drill: RedisDrill | undefined
  beforeAll(async () => {
    drill = await startRedisDrill({ redisDown: true })
  }, 60_000)
  afterAll(async () => {
    await drill?.dispose()
  }, 60_000)

  it('reports redis until it is up, then serves and relays documents', async () => {
    if (!drill) throw new Error('setup failed')
    const { redis, secret, one, two, writers, watchers } = drill
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
