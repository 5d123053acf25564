/**
 * Handles on each backend (issue 12): the backend's directory is authoritative. The backend sets
 * bob's handle; mallory's token claims "bob" (before or after): "@bob" notifies bob, never
 * mallory. Between tokens, the first claim keeps the handle.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createThread } from '../../protocol/index.ts'
import type { TestServer } from '../helpers/server.ts'
import { BACKENDS } from '../access/backends.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { waitFor } from '../helpers/wait.ts'

const SUBJECT = 'handles'

describe.each(BACKENDS)('handles on $name', (backend) => {
  let s: TestServer
  const clients: TestClient[] = []
  beforeEach(async () => {
    s = await backend.startServer({ apiKey: TEST_API_KEY })
    expect((await rest(s, 'PUT', `/api/v1/subjects/${SUBJECT}`, { bearer: TEST_API_KEY, json: { defaultRole: 'comment' } })).status).toBe(200)
  })
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    await s.dispose()
  })

  /** Connects as the user with a token carrying `handle` (the claim is remembered on the way). */
  const connect = async (userId: string, handle?: string) => {
    const client = await connectSynced(s.server.webSocketUrl, `comments/${SUBJECT}`, await s.token(userId, { name: userId, ...(handle ? { handle } : {}) }))
    clients.push(client)
    return client
  }
  const notifications = (userId: string) => s.server.storage.notifications.list(userId, { unreadOnly: false, limit: 10, after: null })
  const putHandle = (userId: string, handle: string) => rest(s, 'PUT', `/api/v1/users/${userId}`, { bearer: TEST_API_KEY, json: { name: userId, handle } })

  /** Ana writes `text`; resolves once its mentions are handled. */
  const mention = async (text: string) => {
    const ana = await connect('ana')
    const { commentId } = createThread({ doc: ana.doc, userId: 'ana' }, text)
    await acknowledged(ana)
    await waitFor(async () => (await s.server.storage.notifications.handled(SUBJECT)).mentions.has(commentId), 'the mention handled')
  }

  it('a token claiming the handle the backend gave bob does not take it', async () => {
    expect((await putHandle('bob', 'bob')).body).toEqual({ id: 'bob', name: 'bob', handle: 'bob' })
    await connect('mallory', 'Bob')
    expect(await s.server.storage.users.get('mallory')).toMatchObject({ name: 'mallory', handle: null })
    await mention('ping @bob')
    expect(await notifications('bob')).toMatchObject([{ kind: 'mention', actors: ['ana'] }])
    expect(await notifications('mallory')).toEqual([])
  })

  it('the backend takes the handle back from a token that claimed it first', async () => {
    await connect('mallory', 'bob')
    expect((await s.server.storage.users.findByHandle('bob'))?.id).toBe('mallory')
    await putHandle('bob', 'bob')
    // Mallory's token comes again (a new socket remembers it): still refused.
    await connect('mallory', 'bob')
    expect((await s.server.storage.users.findByHandle('bob'))?.id).toBe('bob')
    await mention('ping @BOB.')
    expect(await notifications('bob')).toHaveLength(1)
    expect(await notifications('mallory')).toEqual([])
  })

  it('between tokens, the first claim keeps the handle', async () => {
    await connect('neo', 'neo')
    await connect('smith', 'neo')
    expect(await s.server.storage.users.get('smith')).toMatchObject({ handle: null })
    await mention('@neo, wake up')
    expect(await notifications('neo')).toHaveLength(1)
    expect(await notifications('smith')).toEqual([])
  })
})
