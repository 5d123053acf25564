/**
 * Roles end to end, on each backend: what the backend stores through REST (membership, default
 * role) opens sockets that the token alone would not, with the right write scope; the server
 * remembers each user's latest claim from their connections and answers for users who are not
 * connected, or never were.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAuthReason } from '../../protocol/index.ts'
import { addThread } from '../helpers/comments.ts'
import { acknowledged, authFailureOf, connectSynced } from '../helpers/provider.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import type { TestServer } from '../helpers/server.ts'
import { BACKENDS } from './backends.ts'

describe.each(BACKENDS)('roles over the socket on $name', (backend) => {
  let s: TestServer
  beforeAll(async () => {
    s = await backend.startServer({ apiKey: TEST_API_KEY })
  })
  afterAll(async () => {
    await s.dispose()
  })

  const api = (method: string, path: string, json?: unknown) => rest(s, method, path, { bearer: TEST_API_KEY, json })
  const refusal = async (name: string, token: string) => parseAuthReason(await authFailureOf(s.server.webSocketUrl, name, token))?.code

  it('opens a subject through membership, with the member’s role deciding the write scope', async () => {
    const token = await s.token('ana', { access: {} })
    expect(await refusal('comments/club', token)).toBe('forbidden')

    expect((await api('PUT', '/api/v1/subjects/club/members/ana', { role: 'comment' })).status).toBe(200)
    const writer = await connectSynced(s.server.webSocketUrl, 'comments/club', token)
    expect(writer.provider.authorizedScope).toBe('read-write')
    addThread(writer.doc, 'from-member', 'ana')
    await acknowledged(writer)
    writer.destroy()

    await api('PUT', '/api/v1/subjects/club/members/ana', { role: 'read' })
    const reader = await connectSynced(s.server.webSocketUrl, 'comments/club', token)
    expect(reader.provider.authorizedScope).toBe('readonly')
    expect(reader.doc.getMap('threads').has('from-member')).toBe(true)
    reader.destroy()
  })

  it('gives every authenticated user the default role, and the token’s higher role above it', async () => {
    expect((await api('PUT', '/api/v1/subjects/square', { defaultRole: 'read' })).body).toEqual({
      subjectId: 'square',
      defaultRole: 'read',
      closedConnections: 0,
    })
    const anyone = await connectSynced(s.server.webSocketUrl, 'comments/square', await s.token('passer-by', { access: {} }))
    expect(anyone.provider.authorizedScope).toBe('readonly')
    anyone.destroy()
    const claimed = await connectSynced(s.server.webSocketUrl, 'comments/square', await s.token('speaker', { access: { 'comments/sq*': 'comment' } }))
    expect(claimed.provider.authorizedScope).toBe('read-write')
    claimed.destroy()
    // A member above the default role keeps their own role.
    await api('PUT', '/api/v1/subjects/square/members/warden', { role: 'moderate' })
    expect(await s.server.access.decideRemembered('warden', 'comments/square')).toMatchObject({ ok: true, value: { role: 'moderate' } })
  })

  it('answers for users who never connected: membership and default role alone', async () => {
    await api('PUT', '/api/v1/subjects/private/members/never-seen', { role: 'read' })
    expect(await s.server.storage.users.get('never-seen')).toBeNull()
    expect(await s.server.access.decideRemembered('never-seen', 'comments/private')).toMatchObject({ ok: true, value: { role: 'read' } })
    expect(await s.server.access.decideRemembered('stranger', 'comments/private')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(await s.server.access.decideRemembered('stranger', 'comments/square')).toMatchObject({ ok: true, value: { role: 'read' } })
  })

  it('remembers the latest claim of a user’s connection, and answers from it once they are gone', async () => {
    const first = await connectSynced(
      s.server.webSocketUrl,
      'comments/notes-1',
      await s.token('leo', { name: 'Leo', handle: 'leo', access: { 'comments/notes-*': 'comment' } }),
    )
    first.destroy()
    expect(await s.server.access.decideRemembered('leo', 'comments/notes-2')).toMatchObject({ ok: true, value: { role: 'comment' } })
    expect(await s.server.storage.users.get('leo')).toMatchObject({ name: 'Leo', handle: 'leo' })

    // A newer token with a narrower claim, used over REST: the remembered claim follows it.
    const narrower = await s.token('leo', { access: { 'comments/notes-1': 'read' } })
    expect((await rest(s, 'GET', '/api/v1/users?subjectId=notes-1', { bearer: narrower })).status).toBe(200)
    expect(await s.server.access.decideRemembered('leo', 'comments/notes-2')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(await s.server.access.decideRemembered('leo', 'comments/notes-1')).toMatchObject({ ok: true, value: { role: 'read' } })
  })
})
