/**
 * Threads over REST against a real server and real socket clients: a REST write reaches socket
 * clients at once and is stored before the answer; socket writes appear in the REST listing,
 * whether the document is loaded or only in storage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ParleyClient } from '../../client/index.ts'
import { readThreads, type Thread } from '../../protocol/index.ts'
import { rebuild } from '../helpers/comments.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { openSynced, sdkClient, waitAcknowledged } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

/** "At once": a socket client sees a REST write well within this. */
const DELIVERY_MS = 1_000

interface Listing {
  subjectId: string
  threads: Thread[]
}

describe('REST threads', () => {
  let s: TestServer
  const clients: ParleyClient[] = []
  beforeAll(async () => {
    s = await startServer({ apiKey: TEST_API_KEY })
  })
  afterAll(async () => {
    for (const client of clients) await client.close()
    await s.dispose()
  })

  const register = (subjectId: string) => rest(s, 'PUT', `/api/v1/subjects/${subjectId}`, { bearer: TEST_API_KEY, json: { defaultRole: null } })
  const client = async (userId: string) => {
    const c = await sdkClient(s, userId)
    clients.push(c)
    return c
  }

  it('delivers a comment created over REST to socket clients at once, and stores it before answering', async () => {
    await register('live')
    const watcher = await openSynced(await client('watcher'), 'live')
    const ana = await s.token('ana', { name: 'Ana' })

    const started = Date.now()
    const created = await rest<{ threadId: string; commentId: string }>(s, 'POST', '/api/v1/subjects/live/threads', {
      bearer: ana,
      json: { body: [{ text: 'Hi ' }, { text: '@Ben', mention: 'ben' }], metadata: { anchor: 'p3' } },
    })
    expect(created.status).toBe(201)
    const { threadId, commentId } = created.body
    await waitFor(() => watcher.thread(threadId) !== undefined, 'the watcher sees the REST thread', DELIVERY_MS)
    expect(Date.now() - started).toBeLessThan(DELIVERY_MS)
    expect(watcher.thread(threadId)).toMatchObject({
      createdBy: 'ana',
      metadata: { anchor: 'p3' },
      comments: [{ id: commentId, authorId: 'ana', text: 'Hi @Ben', mentions: ['ben'] }],
    })

    const replied = await rest<{ commentId: string }>(s, 'POST', `/api/v1/subjects/live/threads/${threadId}/comments`, {
      bearer: await s.token('ben'),
      json: { body: 'Thanks!', parentId: commentId },
    })
    expect(replied.status).toBe(201)
    await waitFor(() => watcher.thread(threadId)?.comments.length === 2, 'the watcher sees the REST reply', DELIVERY_MS)
    expect(watcher.thread(threadId)?.comments[1]).toMatchObject({ id: replied.body.commentId, authorId: 'ben', parentId: commentId, text: 'Thanks!' })

    // Stored before the 201: storage alone holds both comments.
    const stored = readThreads(rebuild(await s.server.storage.documents.load('comments/live')))
    expect(stored.find((t) => t.id === threadId)?.comments.map((c) => c.text)).toEqual(['Hi @Ben', 'Thanks!'])
  })

  it('writes to a subject nobody has open, stores it, and unloads it again', async () => {
    await register('quiet')
    const created = await rest<{ threadId: string }>(s, 'POST', '/api/v1/subjects/quiet/threads', {
      bearer: await s.token('bot'),
      json: { body: 'nightly report' },
    })
    expect(created.status).toBe(201)
    await waitFor(() => !s.server.hocuspocus.documents.has('comments/quiet'), 'the document is unloaded')
    const stored = readThreads(rebuild(await s.server.storage.documents.load('comments/quiet')))
    expect(stored.map((t) => [t.id, t.createdBy, t.comments[0]?.text])).toEqual([[created.body.threadId, 'bot', 'nightly report']])
    const reader = await openSynced(await client('reader'), 'quiet')
    expect(reader.thread(created.body.threadId)?.comments[0]?.text).toBe('nightly report')
  })

  it('lists the users plain @handle text names, as notifications resolve them', async () => {
    // Everyone may read it, so that the mentioned users are notified.
    expect((await rest(s, 'PUT', '/api/v1/subjects/handles', { bearer: TEST_API_KEY, json: { defaultRole: 'read' } })).status).toBeLessThan(300)
    for (const [id, handle] of [
      ['u_dana', 'Dana'],
      ['u_eli', 'eli'],
    ]) {
      expect((await rest(s, 'PUT', `/api/v1/users/${id}`, { bearer: TEST_API_KEY, json: { name: null, handle } })).status).toBe(200)
    }
    const notified: Array<{ commentId: string; userId: string }> = []
    const stop = s.server.events.on('mention.created', ({ data }) => {
      notified.push({ commentId: data.commentId, userId: data.userId })
    })
    try {
      const created = await rest<{ threadId: string; commentId: string }>(s, 'POST', '/api/v1/subjects/handles/threads', {
        bearer: await s.token('fay'),
        // A mention run, the same user again as plain text (listed once), a handle in another case,
        // an address that is not a mention, and a handle nobody holds.
        json: { body: [{ text: '@Eli', mention: 'u_eli' }, { text: ' and @eli, (@DANA) mail dana@example.com or @nobody.' }] },
      })
      expect(created.status).toBe(201)
      const listing = await rest<Listing>(s, 'GET', '/api/v1/subjects/handles/threads', { bearer: await s.token('reader') })
      expect(listing.status).toBe(200)
      expect(listing.body.threads[0]?.comments[0]?.mentions).toEqual(['u_eli', 'u_dana'])
      // The same users the notification detector notified for this comment.
      await waitFor(() => notified.length === 2, 'both mentions notified')
      expect(
        notified
          .filter((n) => n.commentId === created.body.commentId)
          .map((n) => n.userId)
          .sort(),
      ).toEqual(['u_dana', 'u_eli'])
    } finally {
      stop()
    }
  })

  it('lists socket-created threads, from memory while loaded and from storage after', async () => {
    const writer = await openSynced(await client('cyd'), 'listed')
    const { threadId, commentId } = writer.createThread('first from the socket')
    writer.reply(threadId, 'second', commentId)
    writer.react(threadId, commentId, '👍')
    await waitAcknowledged(writer)

    const token = await s.token('reader')
    const loaded = await rest<Listing>(s, 'GET', '/api/v1/subjects/listed/threads', { bearer: token })
    expect(loaded.status).toBe(200)
    expect(loaded.body.subjectId).toBe('listed')
    expect(loaded.body.threads).toEqual(writer.threads())
    expect(loaded.body.threads[0]?.comments.map((c) => c.text)).toEqual(['first from the socket', 'second'])

    writer.close()
    await waitFor(() => !s.server.hocuspocus.documents.has('comments/listed'), 'the document is unloaded')
    const fromStorage = await rest<Listing>(s, 'GET', '/api/v1/subjects/listed/threads', { bearer: token })
    expect(fromStorage.body.threads).toEqual(loaded.body.threads)
  })
})
