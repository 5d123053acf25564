/**
 * One token helper (issue 24): `signToken` has `parley token`'s defaults, and an embedded dev-mode
 * server mints tokens it accepts with `server.devToken(userId, options)`.
 */
import { decodeJwt, jwtVerify } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { createParleyClient, type ParleyClient } from '../../client/index.ts'
import { DEFAULT_ACCESS, DEV_TOKEN_TTL_SECONDS, signToken } from '../../server/index.ts'
import { TEST_RECONNECT } from '../helpers/sdk.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

describe('token helper', () => {
  const clients: ParleyClient[] = []
  const servers: TestServer[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close()
    for (const s of servers.splice(0)) await s.dispose()
  })

  it('signToken defaults to the CLI’s access and lifetime; null leaves the claim out, {} grants nothing', async () => {
    const secret = 'x'.repeat(40)
    const now = Date.now()
    const token = decodeJwt(await signToken({ sub: 'ana' }, secret, { now }))
    expect(token.access).toEqual({ '*': 'comment' })
    expect(DEFAULT_ACCESS).toEqual({ '*': 'comment' })
    expect(token.exp).toBe(Math.floor(now / 1000) + DEV_TOKEN_TTL_SECONDS)
    expect(decodeJwt(await signToken({ sub: 'ana', access: null }, secret))).not.toHaveProperty('access')
    expect(decodeJwt(await signToken({ sub: 'ana', access: {} }, secret)).access).toEqual({})
  })

  it('an embedded dev-mode server mints a token its clients sync with', async () => {
    const s = await startServer({ jwt: { kind: 'dev' } })
    servers.push(s)
    const token = await s.server.devToken('ana', { name: 'Ana', handle: 'ana' })
    expect(decodeJwt(token)).toMatchObject({ sub: 'ana', name: 'Ana', handle: 'ana', access: { '*': 'comment' } })
    const client = await createParleyClient({ url: s.server.webSocketUrl, token, reconnect: TEST_RECONNECT })
    clients.push(client)
    await client.comments('dev').whenSynced()
  })

  it('signs with PARLEY_JWT_SECRET when one is configured, with the options given', async () => {
    const s = await startServer()
    servers.push(s)
    const token = await s.server.devToken('bot', { access: { 'comments/*': 'moderate' }, expiresInSeconds: 60 })
    const { payload } = await jwtVerify(token, new TextEncoder().encode(s.secret))
    expect(payload.access).toEqual({ 'comments/*': 'moderate' })
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(60)
  })

  it('refuses to sign when the server verifies with a public key', async () => {
    const s = await startServer({ jwt: { kind: 'jwks', url: 'https://example.invalid/jwks.json' } })
    servers.push(s)
    await expect(s.server.devToken('ana')).rejects.toThrow(/public key or JWKS/)
  })
})
