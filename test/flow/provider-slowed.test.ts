/**
 * The two stalls of issue 13, with a standard `@hocuspocus/provider` and no SDK, at the default
 * limits (10 updates/s, bursts of 50): 300 comments written one every 20 ms without waiting, and
 * 300 comments each waiting for its acknowledgement (10 s at most per acknowledgement). Before flow
 * control both stalled after ~50-60 (refused with `rate_limited`, session ended). Now the server
 * reads them more slowly: every one is acknowledged on its own, with no error, no reconnect, and
 * is visible to a second client and in storage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HocuspocusProvider } from '@hocuspocus/provider'
import { createThread, readThreads, reply } from '../../protocol/index.ts'
import { UPDATE_BURST, UPDATES_PER_SECOND } from '../../server/flow/limits.ts'
import { rebuild } from '../helpers/comments.ts'
import { rawClient, type RawClient } from '../helpers/raw.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const COMMENTS = 300
const WRITE_INTERVAL_MS = 20
const ACK_WAIT_MS = 10_000
/** (300 - burst) / rate at the defaults, plus room for a loaded two-core machine. */
const DRAIN_MS = ((COMMENTS - UPDATE_BURST) / UPDATES_PER_SECOND) * 1000 + 20_000

/** Counts the SyncStatus acknowledgements a provider receives (each one lowers `unsyncedChanges` by one). */
function countAcknowledgements(provider: HocuspocusProvider): { readonly count: number } {
  let previous = provider.unsyncedChanges
  let count = 0
  provider.on('unsyncedChanges', ({ number }: { number: number }) => {
    if (number < previous) count += previous - number
    previous = number
  })
  return {
    get count() {
      return count
    },
  }
}

async function flowDelays(s: TestServer): Promise<number> {
  const metric = await s.server.metrics.registry.getSingleMetric('parley_flow_delayed_frames_total')?.get()
  return metric?.values.find((value) => value.labels.kind === 'update')?.value ?? 0
}

describe('a standard provider writing faster than the rate limit', () => {
  let s: TestServer
  const clients: RawClient[] = []
  beforeAll(async () => {
    s = await startServer()
  })
  afterAll(async () => {
    for (const client of clients.splice(0)) client.destroy()
    await s.dispose()
  })

  const open = async (name: string, userId: string) => {
    const client = await rawClient(s.server.webSocketUrl, name, await s.token(userId))
    clients.push(client)
    // The handshake's own SyncStep2 is acknowledged too; count from after it.
    await waitFor(() => client.provider.unsyncedChanges === 0, `${userId}: handshake acknowledged`)
    return client
  }

  /** Everything the writer sent is acknowledged, seen by another client and stored, with no error or reconnect. */
  const expectAllDelivered = async (name: string, writer: RawClient, acks: { readonly count: number }) => {
    expect(acks.count).toBe(COMMENTS)
    expect(writer.errors).toEqual([])
    expect(writer.closes).toEqual([])
    const observer = await open(name, 'observer')
    await waitFor(() => readThreads(observer.doc)[0]?.comments.length === COMMENTS, 'the observer sees every comment')
    const stored = readThreads(rebuild(await s.server.storage.documents.load(name)))
    expect(stored[0]?.comments.map((c) => c.text)).toEqual(Array.from({ length: COMMENTS }, (_, i) => `comment ${i}`))
  }

  it.concurrent(
    '300 comments at 50 per second, without waiting: all acknowledged, none refused',
    async () => {
      const name = 'comments/flow-paced'
      const writer = await open(name, 'pacer')
      const acks = countAcknowledgements(writer.provider)
      const ctx = { doc: writer.doc, userId: 'pacer' }
      const { threadId } = createThread(ctx, 'comment 0')
      for (let i = 1; i < COMMENTS; i++) {
        await new Promise((resolve) => setTimeout(resolve, WRITE_INTERVAL_MS))
        reply(ctx, threadId, `comment ${i}`)
      }
      // Sent faster than the limit: some had to wait (the socket was read more slowly).
      expect(writer.provider.unsyncedChanges).toBeGreaterThan(0)
      await waitFor(() => writer.provider.unsyncedChanges === 0, 'every comment acknowledged', DRAIN_MS)
      expect(await flowDelays(s)).toBeGreaterThan(0)
      await expectAllDelivered(name, writer, acks)
    },
    90_000,
  )

  it.concurrent(
    '300 comments, each waiting for its acknowledgement (10 s at most): none stalls',
    async () => {
      const name = 'comments/flow-awaited'
      const writer = await open(name, 'awaiter')
      const acks = countAcknowledgements(writer.provider)
      const ctx = { doc: writer.doc, userId: 'awaiter' }
      const { threadId } = createThread(ctx, 'comment 0')
      await waitFor(() => writer.provider.unsyncedChanges === 0, 'comment 0 acknowledged', ACK_WAIT_MS)
      let slowest = 0
      for (let i = 1; i < COMMENTS; i++) {
        const started = performance.now()
        reply(ctx, threadId, `comment ${i}`)
        await waitFor(() => writer.provider.unsyncedChanges === 0, `comment ${i} acknowledged`, ACK_WAIT_MS)
        slowest = Math.max(slowest, performance.now() - started)
      }
      // Past the burst, acknowledgements come at the sustained rate: about 100 ms apart.
      expect(slowest).toBeGreaterThan(1000 / UPDATES_PER_SECOND / 2)
      await expectAllDelivered(name, writer, acks)
    },
    90_000,
  )
})
