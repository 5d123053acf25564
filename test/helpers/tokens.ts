/** Test tokens signed with a per-test secret. */
import { randomBytes } from 'node:crypto'
import { signToken, type TokenClaims } from '../../server/auth/sign.ts'

export function newSecret(): string {
  return randomBytes(32).toString('hex')
}

export function tokenFor(secret: string, sub: string, extra: Omit<TokenClaims, 'sub'> = {}, expiresInSeconds?: number | null): Promise<string> {
  return signToken({ sub, access: { '*': 'comment' }, ...extra }, secret, expiresInSeconds === undefined ? {} : { expiresInSeconds })
}
