/**
 * Signs development tokens (`parley token`) with the configured HS256 secret or the dev secret.
 */
import { SignJWT } from 'jose'
import type { Role } from '../../protocol/index.ts'

/** Lifetime of a token made by `parley token` unless `--expires-in` says otherwise. */
export const DEV_TOKEN_TTL_SECONDS = 24 * 60 * 60

/** What a token without `--access` carries. */
export const DEFAULT_ACCESS: Readonly<Record<string, Role>> = { '*': 'comment' }

export interface TokenClaims {
  sub: string
  name?: string | undefined
  handle?: string | undefined
  access?: Record<string, Role> | undefined
}

export async function signToken(claims: TokenClaims, secret: string, options: { expiresInSeconds?: number | null; now?: number } = {}): Promise<string> {
  const { sub, ...rest } = claims
  const body = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined))
  const jwt = new SignJWT(body).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(sub)
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000)
  jwt.setIssuedAt(nowSeconds)
  const ttl = options.expiresInSeconds === undefined ? DEV_TOKEN_TTL_SECONDS : options.expiresInSeconds
  if (ttl !== null) jwt.setExpirationTime(nowSeconds + ttl)
  return jwt.sign(new TextEncoder().encode(secret))
}
