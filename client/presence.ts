/**
 * `client.presence(subjectId)`: who is here (active or idle) and what they are typing in, and
 * this user's own awareness state (contract v1): `{ user: { id, name }, status, typing }`.
 * It shares the subject's document session with `comments(subjectId)`: one provider per document.
 *
 * Input: `setTyping` and `markActive` count as input. The SDK does not watch the DOM; an app
 * calls `markActive()` on the input it cares about (keys, pointer, focus).
 */
import type { Awareness } from 'y-protocols/awareness'
import { ErrorCode, ParleyError, commentsDocumentName, isValidId, type PresenceState, type PresenceStatus, type Typing } from '../protocol/index.ts'
import { batchPerTick } from './batch.ts'
import { Emitter } from './events.ts'
import { PresenceView, type PresentUser } from './presence-view.ts'
import type { DocumentSession } from './session.ts'

export type { PresentUser } from './presence-view.ts'

/** `setTyping(threadId)` clears itself after this long without another call. */
export const TYPING_CLEAR_MS = 5_000

/** While typing goes on, `at` is sent again at most this often (readers drop typing 6 s old). */
export const TYPING_REFRESH_MS = 2_000

/** Default time without input after which the user is `idle`. */
export const IDLE_AFTER_MS = 60_000

export interface PresenceOptions {
  /** Time without input after which the status turns `idle` (default {@link IDLE_AFTER_MS}). */
  idleAfterMs?: number
  /** Typing clears itself after this long without a call (default {@link TYPING_CLEAR_MS}). */
  typingClearMs?: number
}

export interface PresenceEvents {
  /** The users present changed (arrivals, departures, status, typing); at most once per tick. */
  change: PresentUser[]
}

export class PresenceHandle {
  readonly subjectId: string
  readonly documentName: string
  private readonly session: DocumentSession
  private readonly user: { id: string; name: string }
  private readonly idleAfterMs: number
  private readonly typingClearMs: number
  private readonly onClose: () => void
  private readonly events = new Emitter<PresenceEvents>()
  private readonly view: PresenceView
  private statusNow: PresenceStatus = 'active'
  private typingNow: Typing | null = null
  private idleTimer: ReturnType<typeof setTimeout> | undefined
  private typingTimer: ReturnType<typeof setTimeout> | undefined
  private staleTimer: ReturnType<typeof setTimeout> | undefined
  private awareness: Awareness | null = null
  private lastEmitted = ''
  private closed = false
  private readonly batch = batchPerTick(() => this.emitIfChanged())
  private readonly offSession: () => void

  constructor(subjectId: string, session: DocumentSession, user: { id: string; name: string }, options: PresenceOptions, onClose: () => void) {
    this.subjectId = subjectId
    this.documentName = commentsDocumentName(subjectId)
    this.session = session
    this.user = user
    this.idleAfterMs = options.idleAfterMs ?? IDLE_AFTER_MS
    this.typingClearMs = options.typingClearMs ?? TYPING_CLEAR_MS
    this.onClose = onClose
    this.view = new PresenceView(user.id)
    this.offSession = session.events.on('awareness', (awareness) => this.bind(awareness))
    if (session.awareness) this.bind(session.awareness)
    this.restartIdleTimer()
  }

  /** Everyone present, this user included (`self`), by id. */
  users(): PresentUser[] {
    return this.awareness ? this.view.users(this.awareness, Date.now()) : []
  }

  /** Other users present. */
  others(): PresentUser[] {
    return this.users().filter((u) => !u.self)
  }

  /** Other users typing in a thread (`null`: composing a new thread). */
  typingIn(threadId: string | null): PresentUser[] {
    return this.others().filter((u) => u.typing !== null && u.typing.threadId === threadId)
  }

  /** This user's status here. */
  get status(): PresenceStatus {
    return this.statusNow
  }

  /** This user's typing here, or null. */
  get typing(): Typing | null {
    return this.typingNow
  }

  /** Calls `listener` with the users present after changes, at most once per tick. */
  on<K extends keyof PresenceEvents>(event: K, listener: (value: PresenceEvents[K]) => void): () => void {
    return this.events.on(event, listener)
  }

  /**
   * The user is typing in `threadId` (null: a new thread), or stopped (`setTyping(null)`). Call it
   * on every keystroke: it clears itself {@link TYPING_CLEAR_MS} after the last call, and sends a
   * new `at` at most every {@link TYPING_REFRESH_MS}.
   */
  setTyping(threadId: string | null): void {
    if (this.closed) return
    clearTimeout(this.typingTimer)
    this.typingTimer = undefined
    if (threadId === null) {
      if (this.typingNow === null) return
      this.typingNow = null
      this.publish()
      return
    }
    if (!isValidId(threadId)) throw new ParleyError(ErrorCode.InvalidRequest, `thread id "${threadId}" is not valid`)
    const now = Date.now()
    const wasIdle = this.noteInput()
    this.typingTimer = setTimeout(() => this.setTyping(null), this.typingClearMs)
    const current = this.typingNow
    if (!wasIdle && current && current.threadId === threadId && now - current.at < TYPING_REFRESH_MS) return
    this.typingNow = { threadId, at: now }
    this.publish()
  }

  /** The user did something: active again, and the idle countdown restarts. */
  markActive(): void {
    if (this.closed) return
    if (this.noteInput()) this.publish()
  }

  /** Restarts the idle countdown; true if the status was idle (and is active now). */
  private noteInput(): boolean {
    this.restartIdleTimer()
    if (this.statusNow === 'active') return false
    this.statusNow = 'active'
    return true
  }

  private restartIdleTimer(): void {
    clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined
      if (this.closed || this.statusNow === 'idle') return
      this.statusNow = 'idle'
      this.publish()
    }, this.idleAfterMs)
  }

  private state(): PresenceState {
    return { user: { id: this.user.id, name: this.user.name }, status: this.statusNow, typing: this.typingNow }
  }

  private publish(): void {
    this.awareness?.setLocalState(this.state())
  }

  private readonly onChange = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }) => {
    if (!this.awareness) return
    const now = Date.now()
    this.view.note(this.awareness, [...added, ...updated, ...removed], now)
    clearTimeout(this.staleTimer)
    const next = this.view.nextExpiry(now)
    // One millisecond past the expiry, so the typing reads as stale when the timer runs.
    this.staleTimer = next === undefined ? undefined : setTimeout(() => this.batch.schedule(), next - now + 1)
    this.batch.schedule()
  }

  /** A (new) provider's Awareness: follow it and publish this user's state there. */
  private bind(awareness: Awareness): void {
    this.awareness?.off('change', this.onChange)
    this.view.forget()
    this.awareness = awareness
    awareness.on('change', this.onChange)
    this.view.note(awareness, [...awareness.getStates().keys()], Date.now())
    this.publish()
    this.batch.schedule()
  }

  private emitIfChanged(): void {
    const users = this.users()
    const json = JSON.stringify(users)
    if (json === this.lastEmitted) return
    this.lastEmitted = json
    this.events.emit('change', users)
  }

  /** Leaves presence here; the subject's session stays open while comments use it. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const timer of [this.idleTimer, this.typingTimer, this.staleTimer]) clearTimeout(timer)
    this.batch.cancel()
    this.offSession()
    this.awareness?.off('change', this.onChange)
    // `{}` tells the server this client left presence (Hocuspocus does not relay a null state).
    this.awareness?.setLocalState({})
    this.awareness = null
    this.events.clear()
    this.onClose()
  }
}
