/**
 * The common case of an HS256 token checked synchronously with `node:crypto`: WebCrypto's HMAC,
 * which jose uses, costs about 60 µs of the main thread a token on the machines we measure
 * (a job object and a promise per call), this about 10 µs; on a connect storm of first-time users
 * that was the largest cost Parley adds to a connection.
 *
 * It answers only for tokens that verify and hold in time, in their plainest form: three
 * base64url segments, a protected header that is a JSON object with `alg` `HS256` and neither
 * `crit` nor `b64`, a signature equal to the HMAC-SHA256 of the first two segments under the
 * key, and a claims set that is a JSON object whose `iat`, `nbf` and `exp`, when present, are
 * numbers with `nbf` and `exp` holding at `now` within the tolerance (jose's own rules). For
 * anything else it answers `undefined`, and the caller asks jose, which gives the refusal and its
 * reason: this never refuses a token, so it cannot refuse one jose would accept, and what it
 * accepts jose accepts too (test/unit/hs256.test.ts compares the two on seeded token shapes).
 */
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto'

/** Bytes of an HMAC-SHA256. */
const HS256_BYTES = 32
/** A base64url segment without padding, as JWS compact serialization writes it. */
const SEGMENT = /^[A-Za-z0-9_-]*$/
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

function jsonObject(segment: string): Record<string, unknown> | undefined {
  if (!SEGMENT.test(segment)) return undefined
  let value: unknown
  try {
    value = JSON.parse(strictUtf8.decode(Buffer.from(segment, 'base64url')))
  } catch {
    return undefined
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
}

function numericOrAbsent(value: unknown): value is number | undefined {
  return value === undefined || typeof value === 'number'
}

/**
 * The token's claims when it is a plain HS256 token that verifies under `key` and holds at
 * `nowSeconds` (within `toleranceSeconds`); `undefined` otherwise (ask jose).
 */
export function verifyHs256Fast(token: string, key: KeyObject, nowSeconds: number, toleranceSeconds: number): Record<string, unknown> | undefined {
  const first = token.indexOf('.')
  const second = token.indexOf('.', first + 1)
  if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) return undefined
  const signature = token.slice(second + 1)
  if (!SEGMENT.test(signature)) return undefined
  const given = Buffer.from(signature, 'base64url')
  if (given.length !== HS256_BYTES) return undefined
  const header = jsonObject(token.slice(0, first))
  if (!header || header.alg !== 'HS256' || 'crit' in header || 'b64' in header) return undefined
  const expected = createHmac('sha256', key).update(token.slice(0, second)).digest()
  if (!timingSafeEqual(given, expected)) return undefined
  const claims = jsonObject(token.slice(first + 1, second))
  if (!claims) return undefined
  const { iat, nbf, exp } = claims
  if (!numericOrAbsent(iat) || !numericOrAbsent(nbf) || !numericOrAbsent(exp)) return undefined
  if (nbf !== undefined && nbf > nowSeconds + toleranceSeconds) return undefined
  if (exp !== undefined && exp <= nowSeconds - toleranceSeconds) return undefined
  return claims
}
