/**
 * The REST presence routes answer what connected clients see: the users present in a subject
 * (status, typing) and each user's online state and last-seen time; and who may ask.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ParleyClient } from '../../client/index.ts'
import type { PresentUser } from '../../client/presence.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { codeOf, rest, TEST_API_KEY } from '../helpers/rest.ts'
import { sdkClient } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const SUBJECT = 'presence-rest'

interface SubjectPresence {
  subjectId: string
  users: Array<{ id: string; name: string; status: string; typing: { threadId: string | null; at: number } | null; clients: number }>
}

interface UserPresence {
  userId: string
  online: boolean
  lastSeenAt: number | null
}

/** The fields both sides have, in the same shape. */
function seenByClient(users: PresentUser[]): Array<{ id: string; status: string; typing: string | null }> {
  return users.map((u) => ({ id: u.id, status: u.status, typing: u.typing ? String(u.typing.threadId) : null }))
}

function seenByRest(body: SubjectPresence): Array<{ id: string; status: string; typing: string | null }> {
  return body.users.map((u) => ({ id: u.id, status: u.status, typing: u.typing ? String(u.typing.threadId) : null }))
}

describe('REST presence', () => {
  let s: TestServer | undefined
  const clients: ParleyClient[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close()
    await s?.dispose()
    s = undefined
  })

  async function client(userId: string): Promise<ParleyClient> {
    const c = await sdkClient(s as TestServer, userId)
    clients.push(c)
    return c
  }

  it('lists the users present in a subject as connected clients see them', async () => {
    s = await startServer({ apiKey: TEST_API_KEY, presence: { windowMs: 50 } })
    const server = s
    const ana = (await client('ana')).presence(SUBJECT)
    const ben = (await client('ben')).presence(SUBJECT, { idleAfterMs: 200 })
    const carla = (await client('carla')).presence(SUBJECT)
    const reader = await server.token('reader', { access: { [`comments/${SUBJECT}`]: 'read' } })
    const subject = async () => (await rest<SubjectPresence>(server, 'GET', `/api/v1/subjects/${SUBJECT}/presence`, { bearer: reader })).body
    ana.setTyping('thread-1')
    await waitFor(() => ben.status === 'idle', 'ben idles')
    await waitFor(
      () =>
        JSON.stringify(seenByClient(carla.users())) ===
        JSON.stringify([
          { id: 'ana', status: 'active', typing: 'thread-1' },
          { id: 'ben', status: 'idle', typing: null },
          { id: 'carla', status: 'active', typing: null },
        ]),
      'carla sees ana typing and ben idle',
    )
    await waitFor(async () => JSON.stringify(seenByRest(await subject())) === JSON.stringify(seenByClient(carla.users())), 'REST matches carla’s view')
    const body = await subject()
    expect(body.subjectId).toBe(SUBJECT)
    expect(body.users.find((u) => u.id === 'ana')).toMatchObject({ name: 'ana', clients: 1, typing: { threadId: 'thread-1' } })
    // The backend sees the same with the API key.
    const backend = await rest<SubjectPresence>(server, 'GET', `/api/v1/subjects/${SUBJECT}/presence`, { bearer: TEST_API_KEY })
    expect(backend.status).toBe(200)
    expect(seenByRest(backend.body)).toEqual(seenByRest(body))
    // Someone leaves: both views drop them.
    ben.close()
    await waitFor(() => !carla.users().some((u) => u.id === 'ben'), 'carla sees ben leave')
    await waitFor(async () => JSON.stringify(seenByRest(await subject())) === JSON.stringify(seenByClient(carla.users())), 'REST drops ben too')
  })

  it('answers online and last seen across documents', async () => {
    s = await startServer({ apiKey: TEST_API_KEY, presence: { windowMs: 50 } })
    const server = s
    const asker = await server.token('asker')
    const userPresence = async (userId: string) => (await rest<UserPresence>(server, 'GET', `/api/v1/users/${userId}/presence`, { bearer: asker })).body
    expect(await userPresence('nobody')).toEqual({ userId: 'nobody', online: false, lastSeenAt: null })
    const before = Date.now()
    const ana = await client('ana')
    // Online anywhere: comments of one subject, presence in another.
    ana.comments('elsewhere')
    ana.presence(SUBJECT)
    await waitFor(async () => (await userPresence('ana')).online, 'ana is online')
    expect((await userPresence('ana')).lastSeenAt).toBeGreaterThanOrEqual(before)
    // Closing one subject leaves her online through the other.
    ana.comments('elsewhere').close()
    expect((await userPresence('ana')).online).toBe(true)
    await ana.close()
    await waitFor(async () => !(await userPresence('ana')).online, 'ana is offline')
    const gone = await userPresence('ana')
    expect(gone.lastSeenAt).toBeGreaterThanOrEqual(before)
    expect(gone.lastSeenAt).toBeLessThanOrEqual(Date.now())
    const backend = await rest<UserPresence>(server, 'GET', '/api/v1/users/ana/presence', { bearer: TEST_API_KEY })
    expect(backend.body).toEqual(gone)
  })

  it('refuses callers without credentials or read on the subject, and bad ids', async () => {
    s = await startServer({ apiKey: TEST_API_KEY })
    const outsider = await s.token('outsider', { access: { 'comments/other': 'comment' } })
    expect((await rest(s, 'GET', `/api/v1/subjects/${SUBJECT}/presence`)).status).toBe(401)
    const forbidden = await rest(s, 'GET', `/api/v1/subjects/${SUBJECT}/presence`, { bearer: outsider })
    expect([forbidden.status, codeOf(forbidden)]).toEqual([403, 'forbidden'])
    const wrongKey = await rest(s, 'GET', `/api/v1/subjects/${SUBJECT}/presence`, { bearer: 'not-the-key-0123456789' })
    expect([wrongKey.status, codeOf(wrongKey)]).toEqual([401, 'token_invalid'])
    expect((await rest(s, 'GET', '/api/v1/subjects/bad%20id/presence', { bearer: outsider })).status).toBe(400)
    expect((await rest(s, 'GET', '/api/v1/users/ana/presence')).status).toBe(401)
    expect((await rest(s, 'GET', '/api/v1/users/bad%20id/presence', { bearer: outsider })).status).toBe(400)
  })

  // Issue 13: `user.name` in awareness comes from the token, not from what the client writes.
  it('shows the name the token gives, never the one a client writes into its awareness', async () => {
    s = await startServer({ apiKey: TEST_API_KEY, presence: { windowMs: 50 } })
    const server = s
    const name = `comments/${SUBJECT}`
    const providers: TestClient[] = []
    try {
      const mallory = await connectSynced(server.server.webSocketUrl, name, await server.token('mallory', { name: 'Mallory' }))
      providers.push(mallory)
      const nameless = await connectSynced(server.server.webSocketUrl, name, await server.token('nameless'))
      providers.push(nameless)
      const watcher = await connectSynced(server.server.webSocketUrl, name, await server.token('watcher'))
      providers.push(watcher)
      mallory.provider.setAwarenessField('user', { id: 'mallory', name: 'Bob' })
      nameless.provider.setAwarenessField('user', { id: 'nameless', name: 'Bob' })
      const namesSeen = () =>
        [...(watcher.provider.awareness?.getStates().values() ?? [])]
          .map((state) => state.user as { id?: string; name?: string } | undefined)
          .filter((user) => user?.id === 'mallory' || user?.id === 'nameless')
          .map((user) => `${user?.id}=${user?.name}`)
          .sort()
          .join(',')
      await waitFor(() => namesSeen() === 'mallory=Mallory,nameless=nameless', 'the watcher sees the token names')
      const body = (await rest<SubjectPresence>(server, 'GET', `/api/v1/subjects/${SUBJECT}/presence`, { bearer: TEST_API_KEY })).body
      expect(body.users.filter((u) => u.id !== 'watcher').map((u) => [u.id, u.name])).toEqual([
        ['mallory', 'Mallory'],
        ['nameless', 'nameless'],
      ])
    } finally {
      for (const p of providers) p.destroy()
    }
  })
})
