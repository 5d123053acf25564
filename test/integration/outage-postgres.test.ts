/**
 * PostgreSQL goes down under a running Parley and comes back: while it is down `/ready` says
 * storage is failing and writes are not acknowledged; once it is back the server and the SDK
 * client recover by themselves, the refused write is resent and stored, and every acknowledged update is in storage.
 * The test owns its PostgreSQL instance (initdb in a temporary directory) so it can stop it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ParleyClient } from '../../client/index.ts'
import { readThreads } from '../../protocol/index.ts'
import { PostgresStorage } from '../../server/storage/postgres/index.ts'
import { rebuild } from '../helpers/comments.ts'
import { startOwnedPostgres, type OwnedPostgres } from '../helpers/postgres.ts'
import { openSynced, sdkClient } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

/** Restarting PostgreSQL and the provider's reconnect backoff take a few seconds on two cores. */
const RECOVERY_MS = 30_000

interface Readiness {
  status: number
  body: { checks?: Record<string, { ok: boolean; error?: string }>; error?: { message: string } }
}

async function readiness(server: TestServer): Promise<Readiness> {
  const response = await fetch(`${server.server.httpUrl}/ready`)
  return { status: response.status, body: (await response.json()) as Readiness['body'] }
}

async function appendErrors(server: TestServer): Promise<number> {
  const metric = await server.server.metrics.registry.getSingleMetric('parley_storage_errors_total')?.get()
  return metric?.values.find((value) => value.labels.operation === 'append')?.value ?? 0
}

describe('postgres outage under a running server', () => {
  let owned: OwnedPostgres | undefined
  let server: TestServer | undefined
  let client: ParleyClient | undefined

  beforeAll(async () => {
    owned = await startOwnedPostgres()
    server = await startServer({ databaseUrl: owned.url })
  }, 120_000)

  afterAll(async () => {
    await client?.close()
    await server?.dispose().catch(() => undefined)
    await owned?.dispose()
  }, 60_000)

  it('refuses writes while the database is down, recovers by itself, and loses no acknowledged one', async () => {
    if (!owned || !server) throw new Error('setup failed')
    client = await sdkClient(server, 'u_writer')
    const errors: string[] = []
    client.on('error', (e) => errors.push(e.code))
    const handle = await openSynced(client, 'outage')
    const { threadId } = handle.createThread('start')
    const acked: string[] = ['start']
    const write = async (word: string) => {
      handle.reply(threadId, word)
      await waitFor(() => handle.synced && handle.sending === 0, `${word} acknowledged`, RECOVERY_MS)
      acked.push(word)
    }
    for (let i = 0; i < 20; i++) await write(`before${i}`)
    expect((await readiness(server)).status).toBe(200)

    await owned.stop('immediate')
    await waitFor(async () => (await readiness(server!)).status === 503, '/ready answers 503')
    const down = await readiness(server)
    expect(down.body.checks?.storage?.ok).toBe(false)
    expect(down.body.error?.message).toContain('storage')

    // A write now: the append fails, the server says so and closes the socket, unacknowledged.
    const errorsBefore = await appendErrors(server)
    handle.reply(threadId, 'during')
    await waitFor(async () => (await appendErrors(server!)) > errorsBefore, 'the append was refused')
    await waitFor(() => errors.includes('storage_unavailable'), 'the client was told storage is unavailable')
    expect(handle.sending).toBeGreaterThan(0)

    // The database returns: the client reconnects with backoff by itself, and its refused write
    // is sent again and acknowledged; later writes go through.
    await owned.start()
    await waitFor(async () => (await readiness(server!)).status === 200, '/ready answers 200 again', RECOVERY_MS)
    await waitFor(() => handle.synced && handle.sending === 0, 'the refused write is acknowledged after recovery', RECOVERY_MS)
    acked.push('during')
    for (let i = 0; i < 20; i++) await write(`after${i}`)

    const expected = handle.thread(threadId)?.comments.map((c) => c.text)
    await client.close()
    client = undefined
    await server.stop()

    const storage = await PostgresStorage.open({ url: owned.url })
    try {
      const stored = rebuild(await storage.documents.load('comments/outage'))
      const texts = readThreads(stored)[0]?.comments.map((c) => c.text)
      expect(texts).toEqual(acked)
      expect(texts).toEqual(expected)
    } finally {
      await storage.close()
    }
  }, 120_000)
})
