import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createThread } from '../../protocol/index.ts'
import { rawClient, type RawClient } from '../helpers/raw.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const NAME = 'comments/presence-rules'

function statesOf(client: RawClient): Array<[number, Record<string, unknown>]> {
  return [...client.provider.awareness!.getStates().entries()]
}

describe('awareness rules', () => {
  let s: TestServer
  const clients: RawClient[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    await s.dispose()
  })

  it('drops a state whose user is not the token’s, and keeps the user’s own', async () => {
    s = await startServer()
    const observer = await rawClient(s.server.webSocketUrl, NAME, await s.token('ben'))
    const mallory = await rawClient(s.server.webSocketUrl, NAME, await s.token('mallory'))
    clients.push(observer, mallory)
    mallory.provider.setAwarenessField('user', { id: 'ana', name: 'Not Ana' })
    mallory.provider.setAwarenessField('user', { id: 'mallory', name: 'Mallory' })
    await waitFor(() => statesOf(observer).some(([, state]) => (state.user as { id?: string } | undefined)?.id === 'mallory'), 'the honest state arrives')
    expect(statesOf(observer).some(([, state]) => (state.user as { id?: string } | undefined)?.id === 'ana')).toBe(false)
    const dropped = await s.server.metrics.registry.getSingleMetric('parley_guard_awareness_dropped_total')?.get()
    expect(dropped?.values[0]?.value).toBeGreaterThanOrEqual(1)
  })

  it('drops states for a client id another connection owns', async () => {
    s = await startServer()
    const observer = await rawClient(s.server.webSocketUrl, NAME, await s.token('ben'))
    const first = await rawClient(s.server.webSocketUrl, NAME, await s.token('mallory'))
    clients.push(observer, first)
    first.provider.setAwarenessField('user', { id: 'mallory' })
    first.provider.setAwarenessField('tag', 'first')
    // Yjs gives first.doc a new client id once it sees its own in others' structs; awareness keeps this one.
    const firstId = first.provider.awareness!.clientID
    await waitFor(() => statesOf(observer).some(([id]) => id === firstId), 'the first state arrives')
    // A second connection of the same user sends states under the first one's client id.
    const forgedDoc = new Y.Doc()
    forgedDoc.clientID = firstId
    const second = await rawClient(s.server.webSocketUrl, NAME, await s.token('mallory'), forgedDoc)
    clients.push(second)
    second.provider.setAwarenessField('user', { id: 'mallory' })
    second.provider.setAwarenessField('tag', 'second')
    // Barriers: the second connection's next message (a write) is handled after its awareness; then
    // the first changes its state, which the observer receives after anything broadcast before it.
    createThread({ doc: second.doc, userId: 'mallory' }, 'barrier')
    await waitFor(() => second.provider.unsyncedChanges === 0, 'the second connection’s write is acknowledged')
    first.provider.setAwarenessField('status', 'idle')
    await waitFor(() => statesOf(observer).some(([id, state]) => id === firstId && state.status === 'idle'), 'the barrier arrives')
    const state = observer.provider.awareness!.getStates().get(firstId)
    expect(state?.tag).toBe('first')
  })
})
