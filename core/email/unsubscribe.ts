/**
 * One-click unsubscribe tokens (RFC 8058, contract additions "Email"): `<payload>.<signature>`,
 * the payload base64url JSON `{ u: userId, k: kind }`, the signature base64url HMAC-SHA256 of the
 * payload with the server's key. A token turns email off for one kind of one user (a digest of
 * several kinds carries them comma-separated, see {@link unsubscribeKinds}); a forged or altered
 * one is refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

/** Longest token accepted (a user id and a kind fit well within it). */
export const MAX_UNSUBSCRIBE_TOKEN_LENGTH = 512

export interface UnsubscribeTarget {
  userId: string
  kind: string
}

function sign(key: string | Uint8Array, payload: string): string {
  return createHmac('sha256', key).update(`unsubscribe.${payload}`).digest('base64url')
}

export function unsubscribeToken(key: string | Uint8Array, target: UnsubscribeTarget): string {
  const payload = Buffer.from(JSON.stringify({ u: target.userId, k: target.kind })).toString('base64url')
  return `${payload}.${sign(key, payload)}`
}

/** The target of a token this key signed, or null for anything else. */
export function verifyUnsubscribeToken(key: string | Uint8Array, token: string): UnsubscribeTarget | null {
  if (token.length > MAX_UNSUBSCRIBE_TOKEN_LENGTH) return null
  const [payload, signature, extra] = token.split('.')
  if (!payload || !signature || extra !== undefined) return null
  const expected = Buffer.from(sign(key, payload))
  const given = Buffer.from(signature)
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    if (typeof parsed === 'object' && parsed !== null && 'u' in parsed && 'k' in parsed && typeof parsed.u === 'string' && typeof parsed.k === 'string') {
      return { userId: parsed.u, kind: parsed.k }
    }
  } catch {
    // not JSON: refused below
  }
  return null
}

/** The `kind` of a token for an email about these kinds: each once, sorted, comma-separated. */
export function kindsTarget(kinds: Iterable<string>): string {
  return [...new Set(kinds)].sort().join(',')
}

/** The kinds a token's `kind` names. */
export function unsubscribeKinds(kind: string): string[] {
  return kind.split(',').filter((k) => k !== '')
}
