/**
 * A third party binds with only `yjs` and `@hocuspocus/provider`, following docs/PROTOCOL.md
 * ("Comment document schema"), and interoperates with the SDK in both directions.
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { ParleyClient } from '../../client/index.ts'
import { openSynced, sdkClient, waitAcknowledged } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

describe('third-party binding with raw Yjs and @hocuspocus/provider', () => {
  let s: TestServer
  let sdk: ParleyClient
  let socket: HocuspocusProviderWebsocket
  let provider: HocuspocusProvider
  afterEach(async () => {
    provider.destroy()
    socket.destroy()
    await sdk.close()
    await s.dispose()
  })

  it('writes a thread the SDK reads, and reads what the SDK writes', async () => {
    s = await startServer()
    sdk = await sdkClient(s, 'u_ben')
    const ben = await openSynced(sdk, 'doc-42')

    // The third party: a provider, a token, the document name of the contract.
    const doc = new Y.Doc()
    socket = new HocuspocusProviderWebsocket({ url: s.server.webSocketUrl })
    provider = new HocuspocusProvider({ websocketProvider: socket, name: 'comments/doc-42', document: doc, token: await s.token('u_ana') })
    provider.attach()
    await waitFor(() => provider.isSynced, 'the raw provider synced')

    // A thread with its first comment: every nested type created with its parent, in one transaction.
    doc.transact(() => {
      const body = new Y.Text()
      body.applyDelta([{ insert: 'Hello ' }, { insert: '@Ben', attributes: { mention: 'u_ben' } }])
      const comment = new Y.Map<unknown>([
        ['id', 'c1'],
        ['authorId', 'u_ana'],
        ['createdAt', 1_700_000_000_000],
        ['body', body],
        ['reactions', new Y.Map()],
      ])
      const thread = new Y.Map<unknown>([
        ['id', 't1'],
        ['createdBy', 'u_ana'],
        ['createdAt', 1_700_000_000_000],
        ['comments', Y.Array.from([comment])],
        ['subscribers', new Y.Map()],
        ['readBy', new Y.Map()],
        ['metadata', new Y.Map([['anchor', 'p1']])],
      ])
      doc.getMap('threads').set('t1', thread)
    })
    await waitFor(() => provider.unsyncedChanges === 0, 'the raw write acknowledged')

    await waitFor(() => ben.thread('t1') !== undefined, 'the SDK reads the raw thread')
    expect(ben.thread('t1')).toMatchObject({
      createdBy: 'u_ana',
      metadata: { anchor: 'p1' },
      comments: [{ id: 'c1', authorId: 'u_ana', text: 'Hello @Ben', mentions: ['u_ben'], body: [{ text: 'Hello ' }, { text: '@Ben', mention: 'u_ben' }] }],
    })

    // The other direction: the SDK replies and reacts; the raw client reads the fields by name.
    const { commentId } = ben.reply('t1', 'Hi Ana', 'c1')
    ben.react('t1', 'c1', '👍')
    ben.markRead('t1')
    await waitAcknowledged(ben)
    const thread = () => doc.getMap('threads').get('t1') as Y.Map<unknown>
    const comments = () => thread().get('comments') as Y.Array<Y.Map<unknown>>
    await waitFor(() => comments().length === 2, 'the raw client sees the reply')
    const reply = comments().get(1)
    expect(reply.get('id')).toBe(commentId)
    expect(reply.get('authorId')).toBe('u_ben')
    expect(reply.get('parentId')).toBe('c1')
    expect((reply.get('body') as Y.Text).toString()).toBe('Hi Ana')
    expect(reply.get('reactions')).toBeInstanceOf(Y.Map)
    await waitFor(() => (comments().get(0).get('reactions') as Y.Map<number>).has('👍|u_ben'), 'the raw client sees the reaction')
    // Each SDK call is its own update: the read marker may reach the raw client a frame after the reaction.
    await waitFor(() => (thread().get('readBy') as Y.Map<number>).has('u_ben'), 'the raw client sees the read marker')
    expect(typeof (thread().get('readBy') as Y.Map<number>).get('u_ben')).toBe('number')
  })
})
