/**
 * The two stalls of issue 13 with the SDK, at the default limits: 300 comments one every 20 ms,
 * and 300 comments each waiting for its acknowledgement (10 s at most). The SDK is slowed like any
 * client: everything is acknowledged without an error or a reconnect, and is visible to a second
 * client and in storage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ParleyClient } from '../../client/index.ts'
import type { CommentsHandle } from '../../client/comments.ts'
import { readThreads } from '../../protocol/index.ts'
import { UPDATE_BURST, UPDATES_PER_SECOND } from '../../server/flow/limits.ts'
import { rebuild } from '../helpers/comments.ts'
import { openSynced, sdkClient } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const COMMENTS = 300
const WRITE_INTERVAL_MS = 20
const ACK_WAIT_MS = 10_000
const DRAIN_MS = ((COMMENTS - UPDATE_BURST) / UPDATES_PER_SECOND) * 1000 + 20_000

describe('the SDK writing faster than the rate limit', () => {
  let s: TestServer
  const clients: ParleyClient[] = []
  beforeAll(async () => {
    s = await startServer()
  })
  afterAll(async () => {
    for (const client of clients.splice(0)) await client.close()
    await s.dispose()
  })

  const open = async (userId: string, subjectId: string) => {
    const client = await sdkClient(s, userId)
    clients.push(client)
    const trouble: string[] = []
    client.on('error', (error) => trouble.push(`error ${error.code}`))
    client.on('status', (status) => {
      if (status === 'offline') trouble.push('went offline')
    })
    const handle = await openSynced(client, subjectId)
    return { client, handle, trouble }
  }

  const expectAllDelivered = async (subjectId: string, handle: CommentsHandle, trouble: string[]) => {
    expect(trouble).toEqual([])
    const expected = Array.from({ length: COMMENTS }, (_, i) => `comment ${i}`)
    expect(handle.threads()[0]?.comments.map((c) => c.text)).toEqual(expected)
    const { handle: observer } = await open('observer', subjectId)
    await waitFor(() => observer.threads()[0]?.comments.length === COMMENTS, 'the observer sees every comment')
    const stored = readThreads(rebuild(await s.server.storage.documents.load(`comments/${subjectId}`)))
    expect(stored[0]?.comments.map((c) => c.text)).toEqual(expected)
  }

  it.concurrent(
    '300 comments at 50 per second, without waiting: all acknowledged',
    async () => {
      const subjectId = 'sdk-paced'
      const { handle, trouble } = await open('pacer', subjectId)
      const { threadId } = handle.createThread('comment 0')
      for (let i = 1; i < COMMENTS; i++) {
        await new Promise((resolve) => setTimeout(resolve, WRITE_INTERVAL_MS))
        handle.reply(threadId, `comment ${i}`)
      }
      expect(handle.sending).toBeGreaterThan(0)
      await waitFor(() => handle.synced && handle.sending === 0, 'every comment acknowledged', DRAIN_MS)
      await expectAllDelivered(subjectId, handle, trouble)
    },
    90_000,
  )

  it.concurrent(
    '300 comments, each waiting for its acknowledgement (10 s at most)',
    async () => {
      const subjectId = 'sdk-awaited'
      const { handle, trouble } = await open('awaiter', subjectId)
      const { threadId } = handle.createThread('comment 0')
      await waitFor(() => handle.sending === 0, 'comment 0 acknowledged', ACK_WAIT_MS)
      for (let i = 1; i < COMMENTS; i++) {
        handle.reply(threadId, `comment ${i}`)
        await waitFor(() => handle.synced && handle.sending === 0, `comment ${i} acknowledged`, ACK_WAIT_MS)
      }
      await expectAllDelivered(subjectId, handle, trouble)
    },
    90_000,
  )
})
