import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread } from '../../protocol/index.ts'
import type { ParleyClient } from '../../client/index.ts'
import { rebuild } from '../helpers/comments.ts'
import { handleJson, openSynced, sdkClient, threadsJson, waitAcknowledged } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

describe('SDK operations', () => {
  let s: TestServer
  const clients: ParleyClient[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close()
    await s.dispose()
  })

  it('two clients exercise every operation and converge, in memory and in storage', async () => {
    s = await startServer()
    const ana = await sdkClient(s, 'ana')
    const ben = await sdkClient(s, 'ben')
    clients.push(ana, ben)
    expect(ana.userId).toBe('ana')
    const a = await openSynced(ana, 'post-1')
    const b = await openSynced(ben, 'post-1')

    const { threadId, commentId } = a.createThread([{ text: 'Hi ' }, { text: '@Ben', mention: 'ben' }, { text: ', look' }], { anchor: 'p3' })
    await waitFor(() => b.thread(threadId) !== undefined, 'ben sees the thread')
    const { commentId: replyId } = b.reply(threadId, 'Looks good', commentId)
    b.react(threadId, commentId, '👍')
    await waitFor(() => a.thread(threadId)?.comments.some((c) => c.id === replyId) === true, 'ana sees the reply')
    a.react(threadId, replyId, '🎉')
    a.edit(threadId, commentId, [{ text: 'Hi ' }, { text: '@Ben', mention: 'ben' }, { text: ', please look' }])
    const { commentId: doomed } = a.reply(threadId, 'typo')
    a.delete(threadId, doomed)
    b.markRead(threadId)
    b.subscribe(threadId)
    a.mute(threadId)
    b.follow()
    a.follow()
    a.unfollow()
    b.resolve(threadId)
    await waitAcknowledged(a)
    await waitAcknowledged(b)
    await waitFor(() => handleJson(a) === handleJson(b), 'the two clients converge')

    const thread = a.thread(threadId)
    expect(thread).toMatchObject({
      createdBy: 'ana',
      resolved: true,
      resolvedBy: 'ben',
      subscribers: { ben: true, ana: false },
      metadata: { anchor: 'p3' },
    })
    expect(Object.keys(thread?.readBy ?? {})).toEqual(['ben'])
    const [first, second, third] = thread?.comments ?? []
    expect(first).toMatchObject({ authorId: 'ana', text: 'Hi @Ben, please look', mentions: ['ben'], reactions: [{ emoji: '👍', userIds: ['ben'] }] })
    expect(first?.editedAt).toBeTypeOf('number')
    expect(second).toMatchObject({ authorId: 'ben', parentId: commentId, text: 'Looks good', reactions: [{ emoji: '🎉', userIds: ['ana'] }] })
    expect(third).toMatchObject({ text: '', body: [] })
    expect(third?.deletedAt).toBeTypeOf('number')
    expect(a.followers()).toEqual({ ben: 'follower' })

    a.unreact(threadId, replyId, '🎉')
    b.reopen(threadId)
    await waitAcknowledged(a)
    await waitAcknowledged(b)
    await waitFor(() => handleJson(a) === handleJson(b) && a.thread(threadId)?.resolved === false, 'unreact and reopen converge')
    expect(a.thread(threadId)?.comments[1]?.reactions).toEqual([])
    expect(a.thread(threadId)?.resolvedBy).toBeNull()

    const serverDoc = s.server.hocuspocus.documents.get('comments/post-1')
    expect(serverDoc && threadsJson(serverDoc)).toBe(JSON.stringify(a.threads()))
    expect(threadsJson(rebuild(await s.server.storage.documents.load('comments/post-1')))).toBe(JSON.stringify(a.threads()))
  })

  it('refuses bad input locally with a code, before anything is sent', async () => {
    s = await startServer()
    const ana = await sdkClient(s, 'ana')
    clients.push(ana)
    const a = await openSynced(ana, 'post-2')
    expect(() => a.createThread('')).toThrow(expect.objectContaining({ code: 'invalid_request' }))
    expect(() => a.createThread('x'.repeat(10_001))).toThrow(expect.objectContaining({ code: 'too_large' }))
    expect(() => a.reply('no-such-thread', 'hi')).toThrow(expect.objectContaining({ code: 'not_found' }))
    const { threadId, commentId } = a.createThread('hello')
    expect(() => a.react(threadId, commentId, 'a|b')).toThrow(expect.objectContaining({ code: 'invalid_request' }))
    expect(() => a.createThread([{ text: '@x', mention: 'bad id!' }])).toThrow(expect.objectContaining({ code: 'invalid_request' }))
    expect(() => ana.comments('bad id')).toThrow(expect.objectContaining({ code: 'invalid_request' }))
    const ben = await sdkClient(s, 'ben')
    clients.push(ben)
    const b = await openSynced(ben, 'post-2')
    await waitFor(() => b.thread(threadId) !== undefined, 'ben sees the thread')
    expect(() => b.edit(threadId, commentId, 'rewritten')).toThrow(expect.objectContaining({ code: 'write_rejected' }))
    expect(() => b.delete(threadId, commentId)).toThrow(expect.objectContaining({ code: 'write_rejected' }))
  })

  it('batches a burst of remote transactions into one notification per tick', async () => {
    s = await startServer()
    const ana = await sdkClient(s, 'ana')
    const ben = await sdkClient(s, 'ben')
    clients.push(ana, ben)
    const a = await openSynced(ana, 'post-3')
    const b = await openSynced(ben, 'post-3')
    const notifications: number[] = []
    b.observe((threads) => notifications.push(threads.length))
    // 50 transactions in one task on ana's side reach ben through the server. The server relays
    // each once it is stored (group commit: at the end of an event-loop turn), so how many of them
    // share one of ben's ticks depends on timing; the last notification carries them all.
    for (let i = 0; i < 50; i++) a.createThread(`thread ${i}`)
    await waitFor(() => b.threads().length === 50, 'ben has all 50 threads')
    await waitFor(() => notifications.at(-1) === 50, 'last notification carries all threads')
    // The snapshot is the same array until something changes.
    expect(b.threads()).toBe(b.threads())

    // 50 remote transactions applied to ben's document in one task (as one network read or a sync
    // delivers them): one notification.
    ben.disconnect()
    await waitFor(() => ben.status === 'offline', 'ben offline')
    const source = new Y.Doc()
    Y.applyUpdate(source, Y.encodeStateAsUpdate(b.doc))
    const updates: Uint8Array[] = []
    source.on('update', (update: Uint8Array) => updates.push(update))
    for (let i = 0; i < 50; i++) createThread({ doc: source, userId: 'ana' }, `burst ${i}`)
    const before = notifications.length
    for (const update of updates) Y.applyUpdate(b.doc, update, 'remote')
    await waitFor(() => notifications.at(-1) === 100, 'a notification carries the whole burst')
    expect(notifications.length - before).toBe(1)
  })
})
