/**
 * Remembers tokens that verified, so that a client repeating its token (every REST request, every
 * document it opens) costs a map lookup instead of a signature check: under a flood of requests
 * the signature check was the server's largest cost. Only successes are kept (a forged token
 * never fills the cache), each until its `exp` or {@link VERIFIED_TOKEN_TTL_MS}, whichever comes
 * first, and the oldest go first past {@link MAX_VERIFIED_TOKENS}. A key removed from a JWKS
 * stops verifying tokens already seen after at most the TTL. Expired entries are let go as new
 * tokens arrive, so the cache holds about the tokens of the last TTL, not the last
 * {@link MAX_VERIFIED_TOKENS} ever seen (clients that reconnect with fresh tokens made it grow to
 * its bound and stay there).
 */
import type { TokenVerifier, VerifyResult } from './verifier.ts'

/** Longest a verified token is taken on trust without checking its signature again. */
export const VERIFIED_TOKEN_TTL_MS = 60_000
/** Verified tokens remembered at once. */
export const MAX_VERIFIED_TOKENS = 10_000
/** Tokens longer than this are always checked (they would make the cache large). */
export const MAX_CACHED_TOKEN_LENGTH = 4_096

interface Entry {
  result: VerifyResult
  /** Until when (ms since the epoch) the result holds. */
  until: number
}

export interface VerifiedCacheOptions {
  ttlMs?: number
  maxEntries?: number
  now?: () => number
}

/** Entries looked at for expiry per token remembered: expired ones go at least as fast as new ones come. */
const EXPIRY_SWEEP_PER_INSERT = 2

export interface VerifiedTokenCache extends TokenVerifier {
  /** Entries held now. */
  readonly size: number
}

export function cacheVerifiedTokens(inner: TokenVerifier, options: VerifiedCacheOptions = {}): VerifiedTokenCache {
  const ttlMs = options.ttlMs ?? VERIFIED_TOKEN_TTL_MS
  const maxEntries = options.maxEntries ?? MAX_VERIFIED_TOKENS
  const now = options.now ?? Date.now
  /** In insertion order: the first is the oldest. */
  const entries = new Map<string, Entry>()
  /** Drops expired entries from the oldest end (insertion order is close to expiry order). */
  const sweep = (at: number) => {
    let looked = 0
    for (const [key, entry] of entries) {
      if (entry.until > at || ++looked > EXPIRY_SWEEP_PER_INSERT) break
      entries.delete(key)
    }
  }
  return {
    get size() {
      return entries.size
    },
    async verify(token) {
      if (!token || token.length > MAX_CACHED_TOKEN_LENGTH) return inner.verify(token)
      const at = now()
      const known = entries.get(token)
      if (known && known.until > at) return known.result
      if (known) entries.delete(token)
      const result = await inner.verify(token)
      if (!result.ok) return result
      // Past `exp` the inner verifier answers (token_expired, with its clock tolerance).
      const until = Math.min(at + ttlMs, result.value.expiresAt ?? Number.POSITIVE_INFINITY)
      if (until <= at) return result
      sweep(at)
      entries.set(token, { result, until })
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next()
        if (!oldest.done) entries.delete(oldest.value)
      }
      return result
    },
  }
}
