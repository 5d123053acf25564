/**
 * Every SDK wait settles (issue 24), the revocation case: once the server revoked the user's access
 * to a document (`access_revoked`), `whenSynced()` on its handle rejects with that code instead of
 * waiting for a sync that will not come.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createParleyClient, type ParleyClient } from '../../client/index.ts'
import { ErrorCode, ParleyError } from '../../protocol/index.ts'
import { rest, TEST_API_KEY } from '../helpers/rest.ts'
import { TEST_RECONNECT } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

describe('whenSynced after a revocation', () => {
  const clients: ParleyClient[] = []
  const servers: TestServer[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close()
    for (const s of servers.splice(0)) await s.dispose()
  })

  it('rejects with access_revoked once the member was removed', async () => {
    const s = await startServer({ apiKey: TEST_API_KEY })
    servers.push(s)
    expect((await rest(s, 'PUT', '/api/v1/subjects/room/members/ana', { bearer: TEST_API_KEY, json: { role: 'comment' } })).status).toBe(200)
    // The token names another subject only: the room comes from membership.
    const token = await s.token('ana', { access: { 'comments/lobby': 'comment' } })
    const client = await createParleyClient({ url: s.server.webSocketUrl, token, reconnect: TEST_RECONNECT })
    clients.push(client)
    const errors: string[] = []
    client.on('error', (error) => errors.push(error.code))
    const room = client.comments('room')
    await room.whenSynced()
    expect((await rest(s, 'DELETE', '/api/v1/subjects/room/members/ana', { bearer: TEST_API_KEY })).status).toBe(200)
    await waitFor(() => errors.includes(ErrorCode.AccessRevoked), 'the revocation reported')
    const settled = await room.whenSynced().then(
      () => 'resolved',
      (error: unknown) => (error instanceof ParleyError ? error.code : String(error)),
    )
    expect(settled).toBe(ErrorCode.AccessRevoked)
  })
})
