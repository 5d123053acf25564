/**
 * Roles, each including the one before: `read` < `comment` < `moderate`.
 */
export const ROLES = ['read', 'comment', 'moderate'] as const

export type Role = (typeof ROLES)[number]

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}

/** The position of a role in the order; higher includes lower. */
export function roleRank(role: Role): number {
  return ROLES.indexOf(role)
}

/** True when `have` includes everything `need` allows. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return roleRank(have) >= roleRank(need)
}

/** The highest of the given roles, or `null` when there is none. */
export function highestRole(roles: Iterable<Role | null | undefined>): Role | null {
  let best: Role | null = null
  for (const role of roles) {
    if (role && (best === null || roleRank(role) > roleRank(best))) best = role
  }
  return best
}
