/**
 * The claims Parley reads from a token: `sub` (required), `name`, `handle`, `exp`, `access`.
 */
import { z } from 'zod'
import { ID_PATTERN, ROLES, type Role } from '../../protocol/index.ts'

/** An `access` pattern: a document name, or a prefix ending in `*`. */
const ACCESS_PATTERN = /^[A-Za-z0-9_.:@/-]{0,200}\*?$/

export const claimsSchema = z.object({
  sub: z.string().regex(ID_PATTERN, 'sub must be a user id ([A-Za-z0-9_.:@-]{1,128})'),
  name: z.string().max(200).optional(),
  handle: z.string().max(64).optional(),
  exp: z.number().optional(),
  access: z.record(z.string().regex(ACCESS_PATTERN, 'access keys are document names or prefixes ending in *'), z.enum(ROLES)).optional(),
})

export interface ParleyUser {
  id: string
  name: string | undefined
  handle: string | undefined
  /** The token's `access` claim; `undefined` when the token has none. */
  access: Record<string, Role> | undefined
  /** Expiry in ms since the epoch, when the token has one. */
  expiresAt: number | undefined
}
