import { afterEach, describe, expect, it } from 'vitest'
import type { ParleyClient } from '../../client/index.ts'
import { threadsMap } from '../../protocol/index.ts'
import { rebuild } from '../helpers/comments.ts'
import { rawClient } from '../helpers/raw.ts'
import { openSynced, sdkClient, threadsJson, waitAcknowledged } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import type * as Y from 'yjs'

describe('SDK rollback after a refused change', () => {
  let s: TestServer
  const clients: ParleyClient[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close()
    await s.dispose()
  })

  it('rolls back the refused edit, reports it, and keeps the other offline edits', async () => {
    s = await startServer()
    const ana = await sdkClient(s, 'ana')
    clients.push(ana)
    const errors: Array<{ code: string; rolledBack?: string[]; reapplied?: string[] }> = []
    ana.on('error', (e) => errors.push(e))
    const handle = await openSynced(ana, 'rollback')
    const { threadId, commentId } = handle.createThread('first words')
    await waitAcknowledged(handle)

    // Ana goes offline, replies, and edits her first comment...
    ana.disconnect()
    await waitFor(() => ana.status === 'offline', 'offline')
    const { commentId: replyId } = handle.reply(threadId, 'an offline reply')
    handle.edit(threadId, commentId, 'edited while offline')
    handle.react(threadId, commentId, '👍')

    // ...while a moderator deletes that comment on the server.
    const mod = await rawClient(s.server.webSocketUrl, 'comments/rollback', await s.token('mod', { access: { '*': 'moderate' } }))
    const target = (threadsMap(mod.doc).get(threadId)!.get('comments') as Y.Array<Y.Map<unknown>>).get(0)
    target.set('deletedAt', Date.now())
    await waitFor(() => mod.provider.unsyncedChanges === 0, 'moderator acknowledged')
    mod.destroy()

    ana.connect()
    await waitFor(() => errors.some((e) => e.code === 'write_rejected'), 'the refusal is reported')
    const report = errors.find((e) => e.code === 'write_rejected')
    expect(report?.rolledBack).toEqual([`edit ${threadId}/${commentId}`])
    // The reply may have reached the server before the edit was refused; whatever did not is applied again.
    expect(report?.reapplied).not.toContain(`edit ${threadId}/${commentId}`)
    await waitFor(() => handle.synced && handle.sending === 0, 'the kept edits are acknowledged')

    const thread = handle.thread(threadId)
    expect(thread?.comments.find((c) => c.id === commentId)).toMatchObject({ text: '', body: [] })
    expect(thread?.comments.find((c) => c.id === commentId)?.deletedAt).toBeTypeOf('number')
    expect(thread?.comments.some((c) => c.text === 'an offline reply')).toBe(true)
    expect(thread?.comments.find((c) => c.id === commentId)?.reactions).toEqual([{ emoji: '👍', userIds: ['ana'] }])
    const stored = rebuild(await s.server.storage.documents.load('comments/rollback'))
    expect(threadsJson(stored)).toBe(JSON.stringify(handle.threads()))
    expect(JSON.stringify(handle.threads())).not.toContain('edited while offline')
    expect(replyId).toBeTypeOf('string')
  })
})
