/**
 * The one token helper: `parley token`, `server.devToken(…)` and tests sign with it, with the same
 * defaults (issue 24): `access` `{ "*": "comment" }` unless given (`null` for no `access` claim,
 * `{}` for no role), 24 h unless told otherwise.
 */
import { SignJWT } from 'jose'
import type { Role } from '../../protocol/index.ts'
import type { JwtKeyConfig } from '../../core/auth/verifier.ts'
import { loadOrCreateDevSecret } from './dev-secret.ts'

/** Lifetime of a token unless `expiresInSeconds` (`--expires-in`) says otherwise. */
export const DEV_TOKEN_TTL_SECONDS = 24 * 60 * 60

/** What a token carries when no `access` (`--access`) is given. */
export const DEFAULT_ACCESS: Readonly<Record<string, Role>> = { '*': 'comment' }

export interface TokenClaims {
  sub: string
  name?: string | undefined
  handle?: string | undefined
  /** Roles by document pattern; undefined: {@link DEFAULT_ACCESS}; null: no `access` claim. */
  access?: Record<string, Role> | null | undefined
}

export interface SignOptions {
  /** Seconds until `exp`; null: no `exp`. Default {@link DEV_TOKEN_TTL_SECONDS}. */
  expiresInSeconds?: number | null
  now?: number
}

export async function signToken(claims: TokenClaims, secret: string, options: SignOptions = {}): Promise<string> {
  const { sub, access, ...rest } = claims
  const body: Record<string, unknown> = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined))
  if (access !== null) body.access = access ?? { ...DEFAULT_ACCESS }
  const jwt = new SignJWT(body).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(sub)
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000)
  jwt.setIssuedAt(nowSeconds)
  const ttl = options.expiresInSeconds === undefined ? DEV_TOKEN_TTL_SECONDS : options.expiresInSeconds
  if (ttl !== null) jwt.setExpirationTime(nowSeconds + ttl)
  return jwt.sign(new TextEncoder().encode(secret))
}

/** The HS256 secret tokens are signed with: PARLEY_JWT_SECRET, or the dev secret in dev mode. */
export function signingSecret(jwt: JwtKeyConfig, dataDir: string): string {
  if (jwt.kind === 'secret') return jwt.secret
  if (jwt.kind === 'dev') return loadOrCreateDevSecret(dataDir)
  throw new Error('tokens are signed with PARLEY_JWT_SECRET or the dev secret; a public key or JWKS is configured')
}

export type DevTokenOptions = Omit<TokenClaims, 'sub'> & SignOptions

/** A token for `userId` that a server with this configuration accepts (dev secret or PARLEY_JWT_SECRET). */
export async function devToken(jwt: JwtKeyConfig, dataDir: string, userId: string, options: DevTokenOptions = {}): Promise<string> {
  const { expiresInSeconds, now, ...claims } = options
  const signOptions: SignOptions = {}
  if (expiresInSeconds !== undefined) signOptions.expiresInSeconds = expiresInSeconds
  if (now !== undefined) signOptions.now = now
  return signToken({ ...claims, sub: userId }, signingSecret(jwt, dataDir), signOptions)
}
