import { afterEach, describe, expect, it } from 'vitest'
import type { ParleyClient } from '../../client/index.ts'
import { MAX_COMMENT_LENGTH } from '../../protocol/index.ts'
import { rebuild } from '../helpers/comments.ts'
import { openSynced, sdkClient, threadsJson, waitAcknowledged } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

describe('SDK rollback after a refused change', () => {
  let s: TestServer
  const clients: ParleyClient[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close()
    await s.dispose()
  })

  it('rebuilds after a refusal, applies again what the server lacks, and reports what could not be', async () => {
    s = await startServer()
    const ana = await sdkClient(s, 'ana')
    clients.push(ana)
    const errors: Array<{ code: string; rolledBack?: string[]; reapplied?: string[] }> = []
    ana.on('error', (e) => errors.push(e))
    const handle = await openSynced(ana, 'rollback')
    const { threadId, commentId } = handle.createThread('first words')
    const { commentId: second } = handle.reply(threadId, 'second words')
    await waitAcknowledged(handle)

    // Ana goes offline, replies, rewrites both comments at length and reacts...
    ana.disconnect()
    await waitFor(() => ana.status === 'offline', 'offline')
    const long = (what: string) => `${what} `.repeat(Math.ceil((MAX_COMMENT_LENGTH * 0.6) / (what.length + 1))).slice(0, MAX_COMMENT_LENGTH * 0.6)
    handle.reply(threadId, 'an offline reply')
    handle.edit(threadId, commentId, long('offline'))
    handle.edit(threadId, second, 'second, edited offline')
    handle.react(threadId, commentId, '👍')

    // ...while on her phone she rewrites the first one at length too, and deletes the second.
    const phone = await sdkClient(s, 'ana')
    clients.push(phone)
    const onPhone = await openSynced(phone, 'rollback')
    onPhone.edit(threadId, commentId, long('phone'))
    onPhone.delete(threadId, second)
    await waitAcknowledged(onPhone)

    // Both rewrites' words would stay (Yjs keeps concurrent inserts): over the length limit, so
    // the offline session is refused. The SDK rebuilds and applies again what the server lacks:
    // the reply, the rewrite (now of the phone's words) and the reaction; the edit of the deleted
    // comment cannot be applied any more.
    ana.connect()
    await waitFor(() => errors.some((e) => e.code === 'too_large'), 'the refusal is reported')
    const report = errors.find((e) => e.code === 'too_large')
    expect(report?.rolledBack).toEqual([`edit ${threadId}/${second}`])
    // The reply may have reached the server before the rest was refused; whatever did not is applied again.
    expect(report?.reapplied).toEqual(expect.arrayContaining([`edit ${threadId}/${commentId}`, `react ${threadId}/${commentId}`]))
    expect(report?.reapplied).not.toContain(`edit ${threadId}/${second}`)
    await waitFor(() => handle.synced && handle.sending === 0, 'the kept edits are acknowledged')

    const thread = handle.thread(threadId)
    expect(thread?.comments.find((c) => c.id === commentId)).toMatchObject({ text: long('offline'), reactions: [{ emoji: '👍', userIds: ['ana'] }] })
    expect(thread?.comments.find((c) => c.id === second)).toMatchObject({ text: '', deletedAt: expect.any(Number) })
    expect(thread?.comments.some((c) => c.text === 'an offline reply')).toBe(true)
    expect(errors).toHaveLength(1)
    const stored = rebuild(await s.server.storage.documents.load('comments/rollback'))
    expect(threadsJson(stored)).toBe(JSON.stringify(handle.threads()))
    await waitFor(() => JSON.stringify(onPhone.threads()) === JSON.stringify(handle.threads()), 'the phone converges')
  })
})
