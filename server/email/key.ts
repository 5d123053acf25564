/**
 * The key one-click unsubscribe tokens are signed with (core/email/unsubscribe.ts). Every
 * instance must derive the same one, so it comes from a secret they share: `PARLEY_API_KEY`
 * (which also sets users' addresses), else `PARLEY_JWT_SECRET`, else the dev secret in dev mode,
 * through HMAC-SHA256 with a fixed label (a token reveals nothing of the secret). Changing that
 * secret voids the unsubscribe links of emails already sent. The configuration refuses email
 * when none of them is there (server/config.ts).
 */
import { createHmac } from 'node:crypto'

/** Separates this key from any other use of the same secret. */
const LABEL = 'parley email unsubscribe v1'

export interface KeySources {
  apiKey?: string | undefined
  jwtSecret?: string | undefined
  devSecret?: string | undefined
}

export function unsubscribeKey(sources: KeySources): Uint8Array | undefined {
  const secret = sources.apiKey ?? sources.jwtSecret ?? sources.devSecret
  return secret === undefined ? undefined : createHmac('sha256', secret).update(LABEL).digest()
}
