/**
 * The users present in a document, read from its Awareness: contract states merged per user,
 * typing dropped once stale. Staleness is measured from when this client received a typing
 * value (a new `at`), so that clock skew between devices does not matter.
 */
import type { Awareness } from 'y-protocols/awareness'
import { parsePresenceState, TYPING_STALE_MS, type PresenceStatus, type Typing } from '../protocol/index.ts'

export interface PresentUser {
  id: string
  name: string
  /** `active` if any of the user's clients (tabs, devices) is. */
  status: PresenceStatus
  /** What the user is typing in (`threadId` null: a new thread), or null; never stale. */
  typing: Typing | null
  /** This client's user (this tab or another of the same user). */
  self: boolean
  /** Awareness clients of the user here. */
  clients: number
}

export class PresenceView {
  private readonly userId: string
  private readonly staleMs: number
  /** Per client: the typing value last received and when. */
  private readonly received = new Map<number, { key: string; at: number }>()

  constructor(userId: string, staleMs: number = TYPING_STALE_MS) {
    this.userId = userId
    this.staleMs = staleMs
  }

  /** Records when each changed client's typing value arrived; call on the Awareness `change` event. */
  note(awareness: Awareness, clients: readonly number[], now: number): void {
    const states = awareness.getStates()
    for (const clientId of clients) {
      const typing = parsePresenceState(states.get(clientId))?.typing
      if (!typing) {
        this.received.delete(clientId)
        continue
      }
      const key = `${typing.threadId ?? ''}|${typing.at}`
      if (this.received.get(clientId)?.key !== key) this.received.set(clientId, { key, at: now })
    }
  }

  forget(): void {
    this.received.clear()
  }

  /** The users present now, by id. */
  users(awareness: Awareness, now: number): PresentUser[] {
    const byUser = new Map<string, PresentUser & { typedAt: number }>()
    for (const [clientId, raw] of awareness.getStates()) {
      const state = parsePresenceState(raw)
      if (!state) continue
      const receivedAt = this.received.get(clientId)?.at ?? Number.NEGATIVE_INFINITY
      const typing = state.typing && now - receivedAt <= this.staleMs ? state.typing : null
      const present = byUser.get(state.user.id)
      if (!present) {
        byUser.set(state.user.id, {
          id: state.user.id,
          name: state.user.name,
          status: state.status,
          typing,
          self: state.user.id === this.userId,
          clients: 1,
          typedAt: typing ? receivedAt : 0,
        })
        continue
      }
      present.clients++
      if (state.status === 'active') present.status = 'active'
      if (typing && receivedAt >= present.typedAt) {
        present.typing = typing
        present.typedAt = receivedAt
      }
    }
    return [...byUser.values()].map(({ typedAt: _typedAt, ...user }) => user).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /** When the next fresh typing turns stale (ms since the epoch), or undefined. */
  nextExpiry(now: number): number | undefined {
    let next: number | undefined
    for (const { at } of this.received.values()) {
      const expiry = at + this.staleMs
      if (expiry > now && (next === undefined || expiry < next)) next = expiry
    }
    return next
  }
}
