import { createServer, type Server } from 'node:http'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { createTokenVerifier } from '../../core/auth/verifier.ts'
import { connectSynced } from '../helpers/provider.ts'
import { startServer } from '../helpers/server.ts'

async function sign(key: CryptoKey, alg: string, sub: string, kid?: string): Promise<string> {
  return new SignJWT({ access: { '*': 'comment' } })
    .setProtectedHeader(kid ? { alg, kid } : { alg })
    .setSubject(sub)
    .setExpirationTime('5m')
    .sign(key)
}

describe('JWT keys', () => {
  const servers: Server[] = []
  afterAll(() => {
    for (const s of servers) s.close()
  })

  it.each(['RS256', 'ES256'])('verifies %s tokens with a PEM public key, and refuses other keys', async (alg) => {
    const { publicKey, privateKey } = await generateKeyPair(alg)
    const other = await generateKeyPair(alg)
    const verifier = createTokenVerifier({ kind: 'publicKey', pem: await exportSPKI(publicKey) }, { requireExp: true })
    const ok = await verifier.verify(await sign(privateKey, alg, 'ana'))
    expect(ok).toMatchObject({ ok: true, value: { id: 'ana', access: { '*': 'comment' } } })
    const bad = await verifier.verify(await sign(other.privateKey, alg, 'ana'))
    expect(bad).toMatchObject({ ok: false, error: { code: 'token_invalid' } })
  })

  it('refuses an HS256 token when a public key is configured (no algorithm confusion)', async () => {
    const { publicKey } = await generateKeyPair('RS256')
    const pem = await exportSPKI(publicKey)
    const verifier = createTokenVerifier({ kind: 'publicKey', pem }, { requireExp: false })
    const hs = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('ana').sign(new TextEncoder().encode(pem))
    expect(await verifier.verify(hs)).toMatchObject({ ok: false, error: { code: 'token_invalid' } })
  })

  it('verifies tokens against a JWKS endpoint, and a server configured with it accepts them', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }
    const jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ keys: [jwk] }))
    })
    servers.push(jwks)
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
    const address = jwks.address()
    if (!address || typeof address === 'string') throw new Error('no address')
    const url = `http://127.0.0.1:${address.port}/.well-known/jwks.json`

    const verifier = createTokenVerifier({ kind: 'jwks', url }, { requireExp: true })
    expect(await verifier.verify(await sign(privateKey, 'ES256', 'ana', 'k1'))).toMatchObject({ ok: true })
    const stranger = await generateKeyPair('ES256')
    expect(await verifier.verify(await sign(stranger.privateKey, 'ES256', 'ana', 'k1'))).toMatchObject({ ok: false })

    const s = await startServer({ jwt: { kind: 'jwks', url } })
    try {
      const client = await connectSynced(s.server.webSocketUrl, 'comments/jwks', await sign(privateKey, 'ES256', 'ana', 'k1'))
      client.destroy()
    } finally {
      await s.dispose()
    }
  })
})
