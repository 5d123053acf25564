/**
 * Revocation through REST, on each backend: removing or lowering a role closes the user's
 * connections to that subject at once with `access_revoked` (the user's other documents and other
 * users stay), and authentication then refuses or downgrades them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseAuthReason } from '../../protocol/index.ts'
import { addThread } from '../helpers/comments.ts'
import { acknowledged, authFailureOf, connectSynced } from '../helpers/provider.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import type { TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { BACKENDS } from './backends.ts'
import { connectedUsers, newSocket, watchedClient, type WatchedClient } from './clients.ts'

/** The bound: a revoked socket is closed within a second. */
const REVOCATION_DEADLINE_MS = 1_000

describe.each(BACKENDS)('revocation on $name', (backend) => {
  let s: TestServer
  const clients: WatchedClient[] = []
  beforeEach(async () => {
    s = await backend.startServer({ apiKey: TEST_API_KEY })
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy()
    await s.dispose()
  })

  const putMember = (subject: string, userId: string, role: string) =>
    rest<{ closedConnections: number }>(s, 'PUT', `/api/v1/subjects/${subject}/members/${userId}`, { bearer: TEST_API_KEY, json: { role } })
  const watch = async (name: string, token: string, socket = newSocket(s.server.webSocketUrl)) => {
    const client = await watchedClient(s.server.webSocketUrl, name, token, socket)
    clients.push(client)
    return client
  }
  const revokedClose = (client: WatchedClient) => client.closes.find((close) => close.reason === 'access_revoked')

  it('closes a removed member’s socket to the subject within a second, and refuses them afterwards', async () => {
    expect((await putMember('room', 'ana', 'comment')).status).toBe(200)
    // Ana's token gives her the lobby only: the room comes from membership.
    const anaToken = await s.token('ana', { access: { 'comments/lobby': 'comment' } })
    const socket = newSocket(s.server.webSocketUrl)
    const room = await watch('comments/room', anaToken, socket)
    const lobby = await watch('comments/lobby', anaToken, socket)
    expect(room.provider.authorizedScope).toBe('read-write')
    const ben = await watch('comments/room', await s.token('ben', { access: { 'comments/room': 'comment' } }))
    expect(connectedUsers(s.server.hocuspocus.documents, 'comments/room')).toEqual(['ana', 'ben'])

    const started = Date.now()
    const revoked = await rest<{ removed: boolean; closedConnections: number }>(s, 'DELETE', '/api/v1/subjects/room/members/ana', { bearer: TEST_API_KEY })
    expect(revoked).toEqual({ status: 200, body: { subjectId: 'room', userId: 'ana', removed: true, closedConnections: 1 } })
    await waitFor(() => revokedClose(room) !== undefined, 'ana’s room connection closed', REVOCATION_DEADLINE_MS)
    expect(revokedClose(room)!.at - started).toBeLessThan(REVOCATION_DEADLINE_MS)
    expect(room.errors).toEqual([expect.objectContaining({ type: 'parley.error', code: 'access_revoked', documentName: 'comments/room' })])
    expect(connectedUsers(s.server.hocuspocus.documents, 'comments/room')).toEqual(['ben'])

    // The rest stays: Ana's lobby on the same socket, and Ben in the room.
    expect(revokedClose(lobby)).toBeUndefined()
    addThread(lobby.doc, 'still-here', 'ana')
    addThread(ben.doc, 'ben-too', 'ben')
    await waitFor(() => lobby.provider.unsyncedChanges === 0 && ben.provider.unsyncedChanges === 0, 'lobby and ben acknowledged')
    expect(ben.errors).toEqual([])

    expect(parseAuthReason(await authFailureOf(s.server.webSocketUrl, 'comments/room', anaToken))?.code).toBe('forbidden')
  })

  it('closes a connection whose role was lowered; reconnecting gives the lower role; raising closes nothing', async () => {
    await putMember('board', 'mia', 'moderate')
    const token = await s.token('mia', { access: {} })
    const first = await watch('comments/board', token)
    expect(first.provider.authorizedScope).toBe('read-write')
    expect((await putMember('board', 'mia', 'read')).body.closedConnections).toBe(1)
    await waitFor(() => revokedClose(first) !== undefined, 'the writable connection closed', REVOCATION_DEADLINE_MS)
    expect(first.errors[0]?.code).toBe('access_revoked')

    const second = await watch('comments/board', token)
    expect(second.provider.authorizedScope).toBe('readonly')
    expect((await putMember('board', 'mia', 'comment')).body.closedConnections).toBe(0)
    expect(second.closes).toEqual([])
    expect(connectedUsers(s.server.hocuspocus.documents, 'comments/board')).toEqual(['mia'])
  })

  it('lowering the default role closes only the connections that relied on it', async () => {
    const put = (defaultRole: string | null) =>
      rest<{ closedConnections: number }>(s, 'PUT', '/api/v1/subjects/open', { bearer: TEST_API_KEY, json: { defaultRole } })
    expect((await put('comment')).body).toEqual({ subjectId: 'open', defaultRole: 'comment', closedConnections: 0 })
    const zed = await watch('comments/open', await s.token('zed', { access: {} }))
    const ana = await watch('comments/open', await s.token('ana', { access: { 'comments/open': 'comment' } }))
    expect((await put(null)).body.closedConnections).toBe(1)
    await waitFor(() => revokedClose(zed) !== undefined, 'zed’s connection closed', REVOCATION_DEADLINE_MS)
    expect(revokedClose(ana)).toBeUndefined()
    expect(connectedUsers(s.server.hocuspocus.documents, 'comments/open')).toEqual(['ana'])
    expect(parseAuthReason(await authFailureOf(s.server.webSocketUrl, 'comments/open', await s.token('zed', { access: {} })))?.code).toBe('forbidden')
  })

  it('a removed member who was not connected is refused when they come back', async () => {
    await putMember('desk', 'kai', 'comment')
    const token = await s.token('kai', { access: {} })
    const kai = await connectSynced(s.server.webSocketUrl, 'comments/desk', token)
    addThread(kai.doc, 't', 'kai')
    await acknowledged(kai)
    kai.destroy()
    await rest(s, 'DELETE', '/api/v1/subjects/desk/members/kai', { bearer: TEST_API_KEY })
    expect(parseAuthReason(await authFailureOf(s.server.webSocketUrl, 'comments/desk', token))?.code).toBe('forbidden')
  })
})
