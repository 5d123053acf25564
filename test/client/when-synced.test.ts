/**
 * Every SDK wait settles (issue 24): `whenSynced()` rejects with a typed ParleyError when the server
 * refuses the document, instead of hanging with an `error` event as the only sign.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createParleyClient, type ParleyClient } from '../../client/index.ts'
import { ErrorCode, ParleyError } from '../../protocol/index.ts'
import { TEST_RECONNECT } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'

async function refusal(promise: Promise<void>): Promise<ParleyError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof ParleyError) return error
    throw error
  }
  throw new Error('whenSynced resolved; expected a refusal')
}

describe('whenSynced settles', () => {
  const clients: ParleyClient[] = []
  const servers: TestServer[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close()
    for (const s of servers.splice(0)) await s.dispose()
  })

  it('rejects with forbidden for a token that has no role, and again when asked after the refusal', async () => {
    const s = await startServer()
    servers.push(s)
    const client = await createParleyClient({ url: s.server.webSocketUrl, token: await s.token('nobody', { access: {} }), reconnect: TEST_RECONNECT })
    clients.push(client)
    const handle = client.comments('locked')
    const error = await refusal(handle.whenSynced())
    expect(error.code).toBe(ErrorCode.Forbidden)
    expect((await refusal(handle.whenSynced())).code).toBe(ErrorCode.Forbidden)
    expect(handle.synced).toBe(false)
  })

  it('rejects with token_invalid for a token signed with another secret', async () => {
    const s = await startServer()
    servers.push(s)
    const client = await createParleyClient({ url: s.server.webSocketUrl, token: await tokenFor(newSecret(), 'mallory'), reconnect: TEST_RECONNECT })
    clients.push(client)
    expect((await refusal(client.comments('locked').whenSynced())).code).toBe(ErrorCode.TokenInvalid)
  })

  it('still resolves for a token with a role', async () => {
    const s = await startServer()
    servers.push(s)
    const client = await createParleyClient({ url: s.server.webSocketUrl, token: await s.token('ana'), reconnect: TEST_RECONNECT })
    clients.push(client)
    await client.comments('open').whenSynced()
  })
})
