/**
 * Conversions every backend shares for subjects and users: roles and access claims as stored
 * text, and lower-cased search columns (the directory's search keys: user-directory.ts).
 */
import { isRole, type Role } from '../../protocol/index.ts'

/** A stored role, or `null` for anything else (a column written by a newer version, say). */
export function parseRole(value: unknown): Role | null {
  return isRole(value) ? value : null
}

/** An access claim as stored (JSON text); entries whose role is not a role are left out. */
export function parseAccess(text: string | null): Record<string, Role> | null {
  if (text === null) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null
  const access: Record<string, Role> = {}
  for (const [pattern, role] of Object.entries(parsed)) if (isRole(role)) access[pattern] = role
  return access
}

export function serializeAccess(access: Record<string, Role> | undefined): string | null {
  return access === undefined ? null : JSON.stringify(access)
}

/** The search column of a name or handle (JavaScript lower-casing, the same for every backend). */
export function searchable(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : value.toLowerCase()
}
