/**
 * Awareness fan-out of one document, coalesced: states from this instance's connections are held
 * back from the document's Awareness (so Hocuspocus does not broadcast each one at once) and
 * applied together once per window, which Hocuspocus then sends as one frame per connection.
 *
 * - A changed state goes out in the next window; only the latest state of a client in a window
 *   is sent, so the final state always arrives.
 * - A heartbeat (a state equal to the one last sent) is sent at most once per renewal interval
 *   per client: often enough that y-protocols receivers, which drop a state not renewed within
 *   30 s, keep it, but batched with everything else of its window.
 * - A client whose connection closed, that was silent for the timeout, or that set its state to
 *   `{}`, is removed in the next window.
 *
 * Clocks: the document's Awareness numbers what it forwards for a client (previous clock + 1).
 * It forwards at most one state per state received, and client clocks strictly grow, so the
 * forwarded clock never passes the sender's own: a client ignores the echo of its state.
 */
import * as encoding from 'lib0/encoding'
import { applyAwarenessUpdate, type Awareness } from 'y-protocols/awareness'
import { PRESENCE_ORIGIN } from '../origins.ts'

export interface CoalescerTiming {
  /** Window of the awareness fan-out, in ms. */
  windowMs: number
  /** A heartbeat is forwarded at most once per this many ms per client. */
  renewMs: number
  /** A client not heard from for this long is removed. */
  timeoutMs: number
}

export interface WindowReport {
  /** States forwarded (changes and renewals). */
  states: number
  removals: number
}

interface Client {
  socketId: string
  /** The newest clock received from the client (0: unknown). */
  clock: number
  /** JSON of the state last forwarded; '' before the first. */
  sent: string
  sentAt: number
  heardAt: number
}

/** The document whose awareness is coalesced (a Hocuspocus `Document` is one). */
export interface AwarenessTarget {
  readonly awareness: Awareness
  readonly isDestroyed: boolean
}

export class AwarenessCoalescer {
  private readonly target: AwarenessTarget
  private readonly timing: CoalescerTiming
  private readonly onWindow: (report: WindowReport) => void
  private readonly onError: (error: unknown) => void
  /** Client ids of this instance's connections. */
  private readonly clients = new Map<number, Client>()
  /** Latest state (as JSON) of each client waiting for the window. */
  private readonly pending = new Map<number, string>()
  private readonly removals = new Set<number>()
  private timer: NodeJS.Timeout | undefined
  private destroyed = false

  constructor(target: AwarenessTarget, timing: CoalescerTiming, onWindow: (report: WindowReport) => void, onError: (error: unknown) => void) {
    this.target = target
    this.timing = timing
    this.onWindow = onWindow
    this.onError = onError
  }

  /**
   * Takes every state of one awareness message from a connection out of `states` (so that
   * Hocuspocus applies and broadcasts nothing now) and queues what must be forwarded. `clocks`
   * are the message's clocks: a state not newer than one already received is dropped. Returns
   * how many heartbeats it absorbed (not forwarded).
   */
  receive(socketId: string, states: Map<number, Record<string, unknown>>, now: number, clocks?: ReadonlyMap<number, number>): number {
    const queued: Array<[number, string]> = []
    const leaving: number[] = []
    let absorbed = 0
    for (const [clientId, state] of states) {
      let client = this.clients.get(clientId)
      const clock = clocks?.get(clientId) ?? 0
      // Older than a state already received (out of order): the newer one stands.
      const stale = client !== undefined && clock > 0 && clock <= client.clock
      // `{}` from the connection that owns the client: it left presence (Hocuspocus does not relay `null`).
      if (Object.keys(state).length === 0) {
        if (client?.socketId === socketId && !stale) leaving.push(clientId)
        continue
      }
      if (stale) continue
      if (client) client.clock = Math.max(client.clock, clock)
      if (!client) {
        client = { socketId, clock, sent: '', sentAt: Number.NEGATIVE_INFINITY, heardAt: now }
        this.clients.set(clientId, client)
      }
      client.socketId = socketId
      client.heardAt = now
      const json = JSON.stringify(state)
      const heartbeat = json === client.sent && this.target.awareness.states.has(clientId) && now - client.sentAt < this.timing.renewMs
      if (heartbeat && !this.pending.has(clientId)) {
        absorbed++
        continue
      }
      queued.push([clientId, json])
    }
    // Decided without throwing: only now change anything.
    for (const [clientId, json] of queued) {
      this.pending.set(clientId, json)
      this.removals.delete(clientId)
    }
    for (const clientId of leaving) this.remove(clientId)
    states.clear()
    if (queued.length > 0) this.schedule()
    return absorbed
  }

  /** The connection closed: its clients leave in the next window. */
  disconnect(socketId: string): void {
    for (const [clientId, client] of this.clients) if (client.socketId === socketId) this.remove(clientId)
  }

  /** Removes clients silent for longer than the timeout. */
  sweep(now: number): void {
    for (const [clientId, client] of this.clients) if (now - client.heardAt > this.timing.timeoutMs) this.remove(clientId)
  }

  /** Client ids this instance holds for its connections (pending or forwarded). */
  get size(): number {
    return this.clients.size
  }

  private remove(clientId: number): void {
    this.clients.delete(clientId)
    this.pending.delete(clientId)
    if (this.target.awareness.states.has(clientId)) {
      this.removals.add(clientId)
      this.schedule()
    }
  }

  private schedule(): void {
    if (this.timer !== undefined || this.destroyed) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      try {
        this.flush(Date.now())
      } catch (error) {
        this.onError(error)
      }
    }, this.timing.windowMs)
  }

  /** Applies everything queued as one awareness update (Hocuspocus broadcasts it as one frame). */
  flush(now: number): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    if (this.destroyed || this.target.isDestroyed || (this.pending.size === 0 && this.removals.size === 0)) return
    const { awareness } = this.target
    const { meta, states } = awareness
    const removals = [...this.removals].filter((clientId) => states.has(clientId))
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, this.pending.size + removals.length)
    for (const [clientId, json] of this.pending) {
      encoding.writeVarUint(encoder, clientId)
      encoding.writeVarUint(encoder, (meta.get(clientId)?.clock ?? 0) + 1)
      encoding.writeVarString(encoder, json)
      const client = this.clients.get(clientId)
      if (client) {
        client.sent = json
        client.sentAt = now
      }
    }
    // A removal carries the clock last sent: receivers accept `null` at an equal clock.
    for (const clientId of removals) {
      encoding.writeVarUint(encoder, clientId)
      encoding.writeVarUint(encoder, meta.get(clientId)?.clock ?? 0)
      encoding.writeVarString(encoder, 'null')
    }
    const report = { states: this.pending.size, removals: removals.length }
    this.pending.clear()
    this.removals.clear()
    applyAwarenessUpdate(awareness, encoding.toUint8Array(encoder), PRESENCE_ORIGIN)
    this.onWindow(report)
  }

  destroy(): void {
    this.destroyed = true
    clearTimeout(this.timer)
    this.timer = undefined
    this.clients.clear()
    this.pending.clear()
    this.removals.clear()
  }
}
