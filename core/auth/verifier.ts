/**
 * Verifies a token with the configured key (HS256 secret, PEM public key, JWKS URL or the dev
 * secret) and returns the user it speaks for, or an error with a code and a clear message.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose'
import { err, ErrorCode, ok, type ParleyErrorInfo, type Result } from '../../protocol/index.ts'
import { claimsSchema, type ParleyUser } from './claims.ts'
import { verifyHs256Fast } from './hs256.ts'

/** Clock skew tolerated between the token issuer and this server. */
export const CLOCK_TOLERANCE_SECONDS = 5

export type VerifyResult = Result<ParleyUser, ParleyErrorInfo>

export interface TokenVerifier {
  verify(token: string | undefined | null): Promise<VerifyResult>
}

type Key = CryptoKey | KeyObject | JWTVerifyGetKey

/**
 * A shared secret imported once as an HMAC CryptoKey: handed to jose as bytes, it is imported
 * again for every token (measured: 27 µs a verification with the imported key, 40-60 µs without;
 * every first connect of a user pays it).
 */
function hmacKey(secret: string): Promise<CryptoKey> {
  const key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
  // A refused secret fails each verification (awaited there), never the process as an unhandled rejection.
  key.catch(() => undefined)
  return key
}

/** Which key verifies tokens (`PARLEY_JWT_SECRET`, `PARLEY_JWT_PUBLIC_KEY`, `PARLEY_JWKS_URL`, or dev mode). */
export type JwtKeyConfig = { kind: 'secret'; secret: string } | { kind: 'publicKey'; pem: string } | { kind: 'jwks'; url: string } | { kind: 'dev' }

interface Keys {
  key: Key | Promise<Key>
  algorithms: string[]
  /** The shared secret as a `node:crypto` key, for the synchronous HS256 path (core/auth/hs256.ts). */
  secret?: KeyObject
}

function secretKeys(secret: string): Keys {
  return { key: hmacKey(secret), algorithms: ['HS256'], secret: createSecretKey(Buffer.from(secret, 'utf8')) }
}

function keyFor(config: JwtKeyConfig, devSecret: string | undefined): Keys {
  switch (config.kind) {
    case 'secret':
      return secretKeys(config.secret)
    case 'dev':
      if (!devSecret) throw new Error('dev mode needs the dev secret')
      return secretKeys(devSecret)
    case 'publicKey': {
      const key = createPublicKey(config.pem)
      const type = key.asymmetricKeyType
      if (type === 'rsa') return { key, algorithms: ['RS256'] }
      if (type === 'ec') return { key, algorithms: ['ES256'] }
      throw new Error(`PARLEY_JWT_PUBLIC_KEY: unsupported key type ${type ?? 'unknown'} (use RSA or EC P-256)`)
    }
    case 'jwks':
      return { key: createRemoteJWKSet(new URL(config.url)), algorithms: ['RS256', 'ES256'] }
  }
}

function fail(code: ParleyErrorInfo['code'], message: string): VerifyResult {
  return err({ code, message })
}

export function createTokenVerifier(config: JwtKeyConfig, options: { devSecret?: string | undefined; requireExp: boolean }): TokenVerifier {
  const { key: keyOrPromise, algorithms, secret } = keyFor(config, options.devSecret)

  /** The verified claims, or the refusal jose gives with its reason. */
  const joseClaims = async (token: string): Promise<Result<unknown, ParleyErrorInfo>> => {
    try {
      const key = await keyOrPromise
      // The overloads of jwtVerify differ by key type; both accept what keyFor returns.
      const result =
        typeof key === 'function'
          ? await jwtVerify(token, key, { algorithms, clockTolerance: CLOCK_TOLERANCE_SECONDS })
          : await jwtVerify(token, key, { algorithms, clockTolerance: CLOCK_TOLERANCE_SECONDS })
      return ok(result.payload)
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return err({ code: ErrorCode.TokenExpired, message: 'the token has expired' })
      const detail = error instanceof Error ? error.message : String(error)
      return err({ code: ErrorCode.TokenInvalid, message: `the token does not verify: ${detail}` })
    }
  }

  return {
    async verify(token) {
      if (!token) return fail(ErrorCode.TokenMissing, 'no token was sent')
      // A plain HS256 token that verifies and holds in time is checked synchronously; anything else goes to jose, which says why not.
      const fast = secret && verifyHs256Fast(token, secret, Math.floor(Date.now() / 1000), CLOCK_TOLERANCE_SECONDS)
      const verified = fast ? ok(fast) : await joseClaims(token)
      if (!verified.ok) return verified
      const claims = claimsSchema.safeParse(verified.value)
      if (!claims.success) {
        const issue = claims.error.issues[0]
        return fail(ErrorCode.TokenInvalid, `bad claim ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`)
      }
      const c = claims.data
      if (options.requireExp && c.exp === undefined) {
        return fail(ErrorCode.TokenExpired, 'the token has no exp claim, which production requires')
      }
      return ok({ id: c.sub, name: c.name, handle: c.handle, access: c.access, expiresAt: c.exp === undefined ? undefined : c.exp * 1000 })
    },
  }
}
