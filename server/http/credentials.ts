/**
 * Who is calling a REST route: a user, with the same JWT as the socket, or the integrator's
 * backend, with `PARLEY_API_KEY`. Both arrive as `Authorization: Bearer <…>`.
 *
 * Backend routes need `PARLEY_API_KEY`, in dev mode too: without it they answer 403, because an
 * open membership API would let anyone who reaches the port grant themselves any role.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Logger } from 'pino'
import { err, ErrorCode, ok, type ParleyErrorInfo, type Result } from '../../protocol/index.ts'
import type { AccessResolver } from '../../core/access/resolve.ts'
import type { ParleyUser } from '../../core/auth/claims.ts'
import type { TokenVerifier } from '../../core/auth/verifier.ts'

/** A caller's credential, or why it does not hold. */
export type Credential<T> = Result<T, ParleyErrorInfo>

export interface RequestCredentials {
  /** The user of a valid token, remembered as on the socket. */
  user(authorization: string | undefined): Promise<Credential<ParleyUser>>
  /** The integrator's backend: the API key. */
  backend(authorization: string | undefined): Credential<true>
}

export interface CredentialOptions {
  verifier: TokenVerifier
  apiKey: string | undefined
  access: AccessResolver
  logger: Logger
}

function fail<T>(code: ParleyErrorInfo['code'], message: string): Credential<T> {
  return err({ code, message })
}

/** The bearer value; `undefined` without a header, `null` when the header is not `Bearer <value>`. */
export function bearerOf(authorization: string | undefined): string | null | undefined {
  if (authorization === undefined || authorization.trim() === '') return undefined
  const match = /^Bearer +(\S+) *$/i.exec(authorization)
  return match?.[1] ?? null
}

/** Compares two secrets in time independent of where they differ (and of their lengths). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest()
  return timingSafeEqual(digest(given), digest(expected))
}

export function createCredentials(options: CredentialOptions): RequestCredentials {
  const { verifier, apiKey, access, logger } = options
  return {
    async user(authorization) {
      const bearer = bearerOf(authorization)
      if (bearer === undefined) return fail(ErrorCode.TokenMissing, 'send the user token as Authorization: Bearer <token>')
      if (bearer === null) return fail(ErrorCode.TokenInvalid, 'the Authorization header must be Bearer <token>')
      const verified = await verifier.verify(bearer)
      if (!verified.ok) return verified
      try {
        await access.remember(verified.value)
      } catch (error) {
        logger.warn({ err: error, userId: verified.value.id }, 'the token could not be remembered')
      }
      return verified
    },

    backend(authorization) {
      if (apiKey === undefined) {
        return fail(ErrorCode.Forbidden, 'backend routes are disabled: the server has no PARLEY_API_KEY')
      }
      const bearer = bearerOf(authorization)
      if (bearer === undefined) return fail(ErrorCode.TokenMissing, 'send the API key as Authorization: Bearer <PARLEY_API_KEY>')
      if (bearer === null || !sameSecret(bearer, apiKey)) return fail(ErrorCode.Unauthorized, 'the bearer is not the API key (PARLEY_API_KEY)')
      return ok(true)
    },
  }
}
