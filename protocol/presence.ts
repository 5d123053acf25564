/**
 * The awareness state of every Parley document (contract v1, "Awareness"):
 * `{ user: { id, name }, status: "active" | "idle", typing: { threadId, at } | null }`.
 * Shared by the SDK (which writes and reads it) and the server (which indexes it).
 */
import { isValidId } from './names.ts'

/** Typing whose `at` is older than this is stale: readers ignore it (contract v1). */
export const TYPING_STALE_MS = 6_000

export const PRESENCE_STATUSES = ['active', 'idle'] as const
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number]

export interface Typing {
  /** The thread replied to; null while composing a new thread. */
  threadId: string | null
  /** When the user last typed, in ms since the epoch (the sender's clock). */
  at: number
}

export interface PresenceState {
  user: { id: string; name: string }
  status: PresenceStatus
  typing: Typing | null
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseTyping(value: unknown): Typing | null | undefined {
  if (value === null || value === undefined) return null
  if (!isRecord(value)) return undefined
  const { threadId, at } = value
  if (typeof at !== 'number' || !Number.isFinite(at)) return undefined
  if (threadId !== null && (typeof threadId !== 'string' || !isValidId(threadId))) return undefined
  return { threadId, at }
}

/**
 * The contract state in an awareness state, or null when it is not one (a state without a valid
 * `user.id`, an unknown status or malformed typing). A missing name reads as `""`, a missing
 * status as `active`, missing typing as none: older clients that set only `user` still count.
 */
export function parsePresenceState(value: unknown): PresenceState | null {
  if (!isRecord(value) || !isRecord(value.user)) return null
  const { id, name } = value.user
  if (typeof id !== 'string' || !isValidId(id)) return null
  const status = value.status ?? 'active'
  if (status !== 'active' && status !== 'idle') return null
  const typing = parseTyping(value.typing)
  if (typing === undefined) return null
  return { user: { id, name: typeof name === 'string' ? name : '' }, status, typing }
}
