/**
 * The synchronous HS256 path (core/auth/hs256.ts) against jose on the same tokens: whatever it
 * accepts, jose accepts with the same claims; every plain token jose accepts, it accepts too; it
 * never answers for a token jose refuses (forged, tampered, expired, not yet valid, other
 * algorithms, `crit` headers, non-canonical encodings, claims that are not an object). Seeded: the
 * PRNG picks each token's shape and times, so a seed replays exactly.
 */
import { createHmac, createSecretKey } from 'node:crypto'
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import { verifyHs256Fast } from '../../core/auth/hs256.ts'
import { CLOCK_TOLERANCE_SECONDS, createTokenVerifier } from '../../core/auth/verifier.ts'

const SECRET = 'a-shared-secret-of-some-length-0123456789'
const OTHER_SECRET = 'another-secret-entirely-9876543210'
const bytes = (s: string) => new TextEncoder().encode(s)
const b64u = (data: string | Buffer) => Buffer.from(data).toString('base64url')

/** A compact JWS over raw header and payload text, signed with HMAC-SHA256 under `secret`. */
function handSigned(header: string, payload: string | Buffer, secret = SECRET): string {
  const input = `${b64u(header)}.${b64u(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

const SHAPES = [
  'valid',
  'valid-with-kid',
  'expired',
  'expired-within-tolerance',
  'exp-at-tolerance',
  'not-yet-valid',
  'nbf-at-tolerance',
  'no-exp',
  'wrong-secret',
  'tampered-payload',
  'hs384',
  'crit-header',
  /** A `=` after the signature: jose's base64url decoding takes it, so jose accepts; the fast path leaves it to jose. */
  'signature-padded',
  'signature-foreign-char',
  'claims-array',
  'exp-as-string',
  'invalid-utf8',
  'two-segments',
  'four-segments',
  'alg-none',
] as const
type Shape = (typeof SHAPES)[number]

async function tokenOf(shape: Shape, gen: prng.PRNG, now: number): Promise<string> {
  const sub = `user-${prng.uint32(gen, 0, 1_000)}`
  const claims = { sub, name: prng.word(gen, 1, 12), access: { '*': 'comment' } }
  const sign = (alg = 'HS256', header: Record<string, unknown> = {}) =>
    new SignJWT(claims).setProtectedHeader({ alg, ...header }).setIssuedAt(now - prng.uint32(gen, 0, 600))
  const exp = now + prng.uint32(gen, 10, 3_600)
  const tolerance = CLOCK_TOLERANCE_SECONDS
  switch (shape) {
    case 'valid':
      return sign()
        .setExpirationTime(exp)
        .setNotBefore(now - prng.uint32(gen, 0, 60))
        .sign(bytes(SECRET))
    case 'valid-with-kid':
      return sign('HS256', { kid: 'k1', typ: 'JWT' }).setExpirationTime(exp).sign(bytes(SECRET))
    case 'expired':
      return sign()
        .setExpirationTime(now - tolerance - prng.uint32(gen, 1, 3_600))
        .sign(bytes(SECRET))
    case 'expired-within-tolerance':
      return sign()
        .setExpirationTime(now - prng.uint32(gen, 0, tolerance - 1))
        .sign(bytes(SECRET))
    case 'exp-at-tolerance':
      return sign()
        .setExpirationTime(now - tolerance)
        .sign(bytes(SECRET))
    case 'not-yet-valid':
      return sign()
        .setExpirationTime(exp)
        .setNotBefore(now + tolerance + prng.uint32(gen, 1, 600))
        .sign(bytes(SECRET))
    case 'nbf-at-tolerance':
      return sign()
        .setExpirationTime(exp)
        .setNotBefore(now + tolerance)
        .sign(bytes(SECRET))
    case 'no-exp':
      return sign().sign(bytes(SECRET))
    case 'wrong-secret':
      return sign().setExpirationTime(exp).sign(bytes(OTHER_SECRET))
    case 'tampered-payload': {
      const [header, , signature] = (await sign().setExpirationTime(exp).sign(bytes(SECRET))).split('.')
      return `${header}.${b64u(JSON.stringify({ ...claims, sub: 'admin', exp }))}.${signature}`
    }
    case 'hs384':
      return sign('HS384').setExpirationTime(exp).sign(bytes(SECRET))
    case 'crit-header':
      return handSigned(JSON.stringify({ alg: 'HS256', crit: ['exp'] }), JSON.stringify({ ...claims, exp }))
    case 'signature-padded':
      return `${await sign().setExpirationTime(exp).sign(bytes(SECRET))}=`
    case 'signature-foreign-char': {
      const token = await sign().setExpirationTime(exp).sign(bytes(SECRET))
      const at = token.lastIndexOf('.') + 1 + prng.uint32(gen, 0, 42)
      return `${token.slice(0, at)}!${token.slice(at)}`
    }
    case 'claims-array':
      return handSigned(JSON.stringify({ alg: 'HS256' }), JSON.stringify([claims]))
    case 'exp-as-string':
      return handSigned(JSON.stringify({ alg: 'HS256' }), JSON.stringify({ ...claims, exp: String(exp) }))
    case 'invalid-utf8':
      return handSigned(
        JSON.stringify({ alg: 'HS256' }),
        Buffer.concat([Buffer.from(`{"sub":"${sub}","name":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
      )
    case 'two-segments':
      return (await sign().setExpirationTime(exp).sign(bytes(SECRET))).split('.').slice(0, 2).join('.')
    case 'four-segments':
      return `${await sign().setExpirationTime(exp).sign(bytes(SECRET))}.${b64u('x')}`
    case 'alg-none':
      return `${b64u(JSON.stringify({ alg: 'none' }))}.${b64u(JSON.stringify({ ...claims, exp }))}.`
  }
}

/** What jose alone says of the token at `now`: its claims, or the error code Parley maps its refusal to. */
async function joseVerdict(token: string, now: number): Promise<{ claims: unknown } | { code: string }> {
  try {
    const { payload } = await jwtVerify(token, bytes(SECRET), {
      algorithms: ['HS256'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(now * 1000),
    })
    return { claims: payload }
  } catch (error) {
    return { code: error instanceof joseErrors.JWTExpired ? 'token_expired' : 'token_invalid' }
  }
}

const PLAIN: ReadonlySet<Shape> = new Set(['valid', 'valid-with-kid', 'expired-within-tolerance', 'nbf-at-tolerance', 'no-exp'])

describe('HS256 verified synchronously, checked against jose', () => {
  const key = createSecretKey(Buffer.from(SECRET, 'utf8'))

  it.each(Array.from({ length: 12 }, (_, i) => i + 1))('seed %i: every shape gets the same verdict as jose', async (seed) => {
    const gen = prng.create(seed)
    const now = 1_700_000_000 + prng.uint32(gen, 0, 100_000_000)
    for (let round = 0; round < 4; round++) {
      for (const shape of SHAPES) {
        const token = await tokenOf(shape, gen, now)
        const fast = verifyHs256Fast(token, key, now, CLOCK_TOLERANCE_SECONDS)
        const jose = await joseVerdict(token, now)
        if (PLAIN.has(shape)) {
          expect(jose, `${shape} (jose)`).toHaveProperty('claims')
          expect(fast, `${shape} (fast)`).toEqual('claims' in jose ? jose.claims : undefined)
        } else {
          // Not a plain token that holds: the fast path does not answer and jose decides (it refuses all but one).
          expect(fast, shape).toBeUndefined()
          if (shape === 'signature-padded') expect(jose, `${shape} (jose)`).toHaveProperty('claims')
          else expect(jose, `${shape} (jose)`).not.toHaveProperty('claims')
        }
      }
    }
  })

  it('the verifier refuses what jose refuses, with the same code (it asks jose whenever the fast path does not answer)', async () => {
    const verifier = createTokenVerifier({ kind: 'secret', secret: SECRET }, { requireExp: false })
    const gen = prng.create(99)
    const now = Math.floor(Date.now() / 1000)
    for (const shape of SHAPES) {
      const token = await tokenOf(shape, gen, now)
      const [ours, jose] = await Promise.all([verifier.verify(token), joseVerdict(token, now)])
      if ('claims' in jose) expect(ours, shape).toMatchObject({ ok: true })
      else expect(ours, shape).toMatchObject({ ok: false, error: { code: jose.code } })
    }
  })

  it('a verified token reaches the claims schema like any other (a bad claim is refused)', async () => {
    const verifier = createTokenVerifier({ kind: 'secret', secret: SECRET }, { requireExp: true })
    const now = Math.floor(Date.now() / 1000)
    const noSub = await new SignJWT({ name: 'Ana' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now + 60)
      .sign(bytes(SECRET))
    expect(verifyHs256Fast(noSub, key, now, CLOCK_TOLERANCE_SECONDS)).toBeDefined()
    expect(await verifier.verify(noSub)).toMatchObject({ ok: false, error: { code: 'token_invalid' } })
    const noExp = await new SignJWT({ sub: 'ana' }).setProtectedHeader({ alg: 'HS256' }).sign(bytes(SECRET))
    expect(await verifier.verify(noExp)).toMatchObject({ ok: false, error: { code: 'token_expired' } })
  })
})
