/**
 * A revocation that lands while a connection is being authenticated: authentication read the old
 * membership, the revocation found no connection to close, and the connection is established
 * afterwards. The auth extension notices that a revocation ran meanwhile and checks it again.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import type { StoredRoles } from '../../core/storage/types.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { connectedUsers, openWatched, type WatchedClient } from './clients.ts'

describe('revocation during authentication', () => {
  let s: TestServer | undefined
  let client: WatchedClient | undefined
  afterEach(async () => {
    client?.destroy()
    await s?.dispose()
  })

  it('closes a connection whose role was decided just before its membership was removed', async () => {
    const dataDir = tempDir()
    const storage = SqliteStorage.inDataDir(dataDir)
    await storage.subjects.putMember('room', 'ana', 'comment')
    // Hold Ana's first role lookup after it has read the membership, until the revocation ran.
    let reached!: () => void
    const lookupReached = new Promise<void>((resolve) => (reached = resolve))
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    const read = storage.subjects.storedRoles.bind(storage.subjects)
    let held = false
    storage.subjects.storedRoles = async (subjectId: string, userId: string): Promise<StoredRoles> => {
      const roles = await read(subjectId, userId)
      if (userId === 'ana' && !held) {
        held = true
        reached()
        await released
      }
      return roles
    }
    s = await startServer({ apiKey: TEST_API_KEY, storage, dataDir })
    const server = s
    const token = await server.token('ana', { access: {} })

    client = openWatched(server.server.webSocketUrl, 'comments/room', token)
    const connected = client
    await lookupReached
    const revoked = await rest<{ closedConnections: number }>(server, 'DELETE', '/api/v1/subjects/room/members/ana', { bearer: TEST_API_KEY })
    expect(revoked.body.closedConnections).toBe(0)
    release()

    await waitFor(() => connected.closes.some((close) => close.reason === 'access_revoked'), 'the late connection closed')
    expect(connected.errors.map((e) => e.code)).toEqual(['access_revoked'])
    expect(connectedUsers(server.server.hocuspocus.documents, 'comments/room')).toEqual([])
  })
})
