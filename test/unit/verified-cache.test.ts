/**
 * core/auth/verified-cache.ts: a token that verified is taken on trust until its `exp` or the TTL;
 * failures are never remembered; the cache is bounded.
 */
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { cacheVerifiedTokens, MAX_CACHED_TOKEN_LENGTH } from '../../core/auth/verified-cache.ts'
import { createTokenVerifier, type TokenVerifier } from '../../core/auth/verifier.ts'

const SECRET = 'a-secret-of-at-least-thirty-two-bytes!!'

async function token(sub: string, exp?: number, extra: Record<string, unknown> = {}): Promise<string> {
  const jwt = new SignJWT({ ...extra }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt()
  if (exp !== undefined) jwt.setExpirationTime(exp)
  return jwt.sign(new TextEncoder().encode(SECRET))
}

/** The real verifier, with a count of the signature checks it made. */
function counted(): { verifier: TokenVerifier; checks: () => number } {
  const real = createTokenVerifier({ kind: 'secret', secret: SECRET }, { requireExp: false })
  let checks = 0
  return {
    verifier: {
      verify: (t) => {
        checks++
        return real.verify(t)
      },
    },
    checks: () => checks,
  }
}

describe('verified tokens are remembered', () => {
  it('checks a repeated token once, then again after the TTL', async () => {
    let now = 1_000_000
    const inner = counted()
    const cache = cacheVerifiedTokens(inner.verifier, { ttlMs: 60_000, now: () => now })
    const t = await token('ana')
    for (let i = 0; i < 5; i++) expect((await cache.verify(t)).ok).toBe(true)
    expect(inner.checks()).toBe(1)
    now += 60_001
    expect((await cache.verify(t)).ok).toBe(true)
    expect(inner.checks()).toBe(2)
  })

  it('never holds a token past its exp: the real verifier answers token_expired', async () => {
    const exp = Math.floor(Date.now() / 1000) + 30
    let now = Date.now()
    const inner = counted()
    const cache = cacheVerifiedTokens(inner.verifier, { now: () => now })
    const t = await token('ana', exp)
    expect((await cache.verify(t)).ok).toBe(true)
    now = exp * 1000 + 1
    await cache.verify(t)
    expect(inner.checks()).toBe(2)
  })

  it('does not remember failures, missing tokens or very long tokens', async () => {
    const inner = counted()
    const cache = cacheVerifiedTokens(inner.verifier)
    const good = await token('ana')
    const forged = `${good.slice(0, -4)}AAAA`
    for (let i = 0; i < 3; i++) expect((await cache.verify(forged)).ok).toBe(false)
    expect(inner.checks()).toBe(3)
    const long = await token('ana', undefined, { pad: 'x'.repeat(MAX_CACHED_TOKEN_LENGTH) })
    expect((await cache.verify(long)).ok).toBe(true)
    expect((await cache.verify(long)).ok).toBe(true)
    expect(inner.checks()).toBe(5)
    const missing = await cache.verify(undefined)
    expect(missing.ok).toBe(false)
  })

  it('forgets the oldest past its bound', async () => {
    const inner = counted()
    const cache = cacheVerifiedTokens(inner.verifier, { maxEntries: 2 })
    const [a, b, c] = await Promise.all([token('a'), token('b'), token('c')])
    await cache.verify(a)
    await cache.verify(b)
    await cache.verify(c)
    expect(inner.checks()).toBe(3)
    await cache.verify(c)
    await cache.verify(b)
    expect(inner.checks()).toBe(3)
    await cache.verify(a)
    expect(inner.checks()).toBe(4)
  })

  it('lets expired tokens go as fresh ones arrive (reconnecting clients do not fill it to its bound)', async () => {
    let now = 1_000_000
    const cache = cacheVerifiedTokens(counted().verifier, { ttlMs: 60_000, now: () => now })
    const old = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((sub) => token(sub)))
    for (const t of old) await cache.verify(t)
    expect(cache.size).toBe(5)
    now += 60_001
    const fresh = await Promise.all(['f', 'g', 'h'].map((sub) => token(sub)))
    for (const t of fresh) await cache.verify(t)
    expect(cache.size).toBe(3)
    // Still within their TTL: nothing of the fresh ones is dropped.
    now += 30_000
    await cache.verify(await token('i'))
    expect(cache.size).toBe(4)
  })
})
