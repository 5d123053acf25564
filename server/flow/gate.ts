/**
 * The inbound gate of one socket, between `ws` and Hocuspocus. Every frame is metered before
 * Hocuspocus sees it. A frame whose buckets are empty waits, in order, and the socket is paused
 * (the server stops reading it) until the buckets refill: a fast client is slowed, never refused,
 * and each of its updates still reaches Hocuspocus as its own message, so each is acknowledged on
 * its own. Awareness above its rate is coalesced: only the latest waiting frame per document is
 * kept. Only far past the limits (the ceilings, a full queue) is the socket cut.
 *
 * Other sockets are never slowed: each has its own gate; what they share is the per-user buckets.
 */
import { ErrorCode } from '../../protocol/index.ts'
import { BucketLayout, Buckets, type Rate } from './bucket.ts'
import { checkAwareness, classifyFrame, type FrameInfo } from './frame.ts'

/** The socket a gate meters, as the gate sees it (server/flow/socket.ts: a `ws` WebSocket and its links). */
export interface GateSocket {
  pause(): void
  resume(): void
  /** Hands a frame to Hocuspocus. */
  deliver(frame: Uint8Array): void
  /** Refusals the gate decides: an oversized state vector, a cut. The gate is suspended first. */
  refuse(refusal: GateRefusal): void
  /** The user authenticated on this socket for a document, once known. */
  userOf(documentName: string): string | undefined
}

export interface Clock {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

export interface GateLimits {
  updates: Rate
  updateBytes: Rate
  awareness: Rate
  awarenessBytes: Rate
  syncStep1: Rate
  control: Rate
  /** Bytes read per second, any frame: past it the socket is read more slowly (never cut). */
  readBytes: Rate
  ceilingBytes: Rate
  ceilingFrames: Rate
  maxQueuedFrames: number
  maxQueuedBytes: number
  maxStateVectorBytes: number
  maxAwarenessStateBytes: number
  maxAwarenessStates: number
  maxAwarenessEntries: number
  /** Also bounds the awareness frames waiting per socket (one per document). */
  maxDocumentsPerSocket: number
}

/** The buckets shared by every socket of one user. */
export type UserBucketName = 'updates' | 'updateBytes' | 'awareness' | 'awarenessBytes'
export type UserBuckets = Buckets<UserBucketName>

/** The buckets each socket has of its own. */
type SocketBucketName = UserBucketName | 'syncStep1' | 'control' | 'readBytes' | 'ceilingBytes' | 'ceilingFrames'

/** The socket buckets' layout per limits (every gate of a server shares one limits object). */
const layouts = new WeakMap<GateLimits, BucketLayout<SocketBucketName>>()

function socketLayout(limits: GateLimits): BucketLayout<SocketBucketName> {
  let layout = layouts.get(limits)
  if (!layout) {
    const { updates, updateBytes, awareness, awarenessBytes, syncStep1, control, readBytes, ceilingBytes, ceilingFrames } = limits
    layout = new BucketLayout({ updates, updateBytes, awareness, awarenessBytes, syncStep1, control, readBytes, ceilingBytes, ceilingFrames })
    layouts.set(limits, layout)
  }
  return layout
}

export type GateKind = 'update' | 'syncStep1' | 'awareness' | 'control'

export interface GateMetrics {
  /** A frame had to wait for its buckets. */
  delayed(kind: GateKind): void
  /** A waiting awareness frame was replaced by a newer one of the same document. */
  coalesced(): void
  /** An awareness frame was dropped unread (several states, a state too large, malformed, too many waiting). */
  awarenessDropped(reason: string): void
  /** The socket was paused (true) or resumed (false). */
  paused(paused: boolean): void
}

/** What the gate refuses itself; the caller sends the close (with its backoff). */
export interface GateRefusal {
  code: ErrorCode
  /** The document concerned, or null for the whole socket. */
  documentName: string | null
  address: string | null
  message: string
}

/** What every gate of a server shares. */
export interface GateOptions {
  /** The per-user buckets of a user. */
  userBuckets(userId: string, now: number): UserBuckets
  limits: GateLimits
  clock: Clock
  metrics: GateMetrics | undefined
}

interface Waiting {
  frame: Uint8Array
  info: FrameInfo
}

/** A cost drawn from one bucket: a socket's own, or (a subset of the names) its user's. */
interface Charge {
  buckets: Pick<Buckets<SocketBucketName>, 'waitMs' | 'take'>
  name: SocketBucketName
  cost: number
}

export class SocketGate {
  private readonly options: GateOptions
  private readonly socket: GateSocket
  private readonly socketBuckets: Buckets<SocketBucketName>
  /** Frames waiting in arrival order (awareness aside); `head` is the next one. */
  private queue: Array<Waiting | undefined> = []
  private head = 0
  private queuedBytes = 0
  /** The latest waiting awareness frame per address; made when one first waits (most sockets never wait). */
  private awareness: Map<string, Waiting> | undefined = undefined
  private timer: unknown = undefined
  private timerAt = 0
  private paused = false
  /** The socket is not read before this time (the read-bytes bucket is in debt). */
  private throttledUntil = 0
  private state: 'open' | 'suspended' | 'closed' = 'open'

  constructor(options: GateOptions, socket: GateSocket) {
    this.options = options
    this.socket = socket
    const { limits, clock } = options
    const now = clock.now()
    this.socketBuckets = new Buckets(socketLayout(limits), now)
  }

  /** Frames waiting (awareness included). */
  get waiting(): number {
    return this.queue.length - this.head + (this.awareness?.size ?? 0)
  }

  get isPaused(): boolean {
    return this.paused
  }

  /** A frame read from the socket. */
  receive(frame: Uint8Array): void {
    if (this.state !== 'open') return
    const { limits, clock } = this.options
    const now = clock.now()
    const buckets = this.socketBuckets
    if (!buckets.tryTake('ceilingFrames', 1, now) || !buckets.tryTake('ceilingBytes', frame.byteLength, now)) {
      this.refuse({ code: ErrorCode.RateLimited, documentName: null, address: null, message: 'far more data than any client sends: the socket is cut' })
      return
    }
    buckets.take('readBytes', frame.byteLength, now)
    const debt = buckets.waitMs('readBytes', 1, now)
    if (debt > 0) {
      // Read too much: whatever this frame is, the socket is read again once the bucket refills.
      this.throttledUntil = now + debt
      this.pause()
      this.schedule(debt, now)
    }
    const info = classifyFrame(frame)
    if (info.kind === 'awareness') {
      this.receiveAwareness(frame, info)
      return
    }
    if (info.kind === 'syncStep1' && info.stateVectorBytes > limits.maxStateVectorBytes) {
      this.refuse({
        code: ErrorCode.TooLarge,
        documentName: info.documentName,
        address: info.address,
        message: `a state vector is at most ${limits.maxStateVectorBytes} bytes`,
      })
      return
    }
    const item = { frame, info }
    const queued = this.queue.length - this.head
    if (queued === 0 && this.admit(item, now) === 0) {
      this.socket.deliver(frame)
      return
    }
    if (queued >= limits.maxQueuedFrames || (queued > 0 && this.queuedBytes + frame.byteLength > limits.maxQueuedBytes)) {
      this.refuse({
        code: ErrorCode.RateLimited,
        documentName: null,
        address: null,
        message: 'too much waiting while the socket was slowed: the socket is cut',
      })
      return
    }
    this.queue.push(item)
    this.queuedBytes += frame.byteLength
    this.options.metrics?.delayed(info.kind)
    this.pause()
    this.pump()
  }

  /**
   * Stops delivering for good: what waits is dropped (none of it was acknowledged) and the socket
   * stays paused until it closes. Called before a refusal closes the socket.
   */
  suspend(): void {
    if (this.state !== 'open') return
    this.state = 'suspended'
    this.clear()
    this.pause()
  }

  /**
   * The server is closing the socket: stop delivering (as {@link suspend}) but read again, so
   * that the client's answer to the close frame arrives and the closing handshake completes.
   */
  closing(): void {
    this.suspend()
    if (this.state === 'suspended' && this.paused) {
      this.paused = false
      this.socket.resume()
      this.options.metrics?.paused(false)
    }
  }

  /** The socket closed: drop everything. */
  close(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.clear()
    if (this.paused) {
      this.paused = false
      this.options.metrics?.paused(false)
    }
  }

  private receiveAwareness(frame: Uint8Array, info: FrameInfo & { kind: 'awareness' }): void {
    const { limits, clock } = this.options
    const checked = checkAwareness(frame, {
      maxStateBytes: limits.maxAwarenessStateBytes,
      maxStates: limits.maxAwarenessStates,
      maxEntries: limits.maxAwarenessEntries,
    })
    if (!checked.ok) {
      this.options.metrics?.awarenessDropped(checked.error)
      return
    }
    const item: Waiting = { frame: checked.value, info: { ...info, bytes: checked.value.byteLength } }
    const previous = this.awareness?.get(info.address)
    if (!previous && this.admit(item, clock.now()) === 0) {
      this.socket.deliver(item.frame)
      return
    }
    if (previous) {
      this.awareness?.delete(info.address)
      this.options.metrics?.coalesced()
    } else if ((this.awareness?.size ?? 0) >= limits.maxDocumentsPerSocket) {
      this.options.metrics?.awarenessDropped('too_many_waiting')
      return
    } else {
      this.options.metrics?.delayed('awareness')
    }
    this.awareness ??= new Map()
    this.awareness.set(info.address, item)
    this.pump()
  }

  /** Delivers what its buckets allow, in order; schedules itself for the rest. */
  private pump(): void {
    const now = this.options.clock.now()
    while (this.state === 'open' && this.head < this.queue.length) {
      const item = this.queue[this.head]
      if (!item) break
      const wait = this.admit(item, now)
      if (wait > 0) {
        this.schedule(wait, now)
        break
      }
      this.queue[this.head] = undefined
      this.head++
      this.queuedBytes -= item.frame.byteLength
      this.socket.deliver(item.frame)
    }
    if (this.head >= this.queue.length) {
      this.queue = []
      this.head = 0
      this.queuedBytes = 0
      if (this.state === 'open' && now >= this.throttledUntil) this.resume()
      else if (this.state === 'open') this.schedule(this.throttledUntil - now, now)
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    for (const [address, item] of this.awareness ?? []) {
      if (this.state !== 'open') break
      const wait = this.admit(item, now)
      if (wait > 0) {
        this.schedule(wait, now)
        break
      }
      this.awareness?.delete(address)
      this.socket.deliver(item.frame)
    }
  }

  /** Takes the frame's costs when every bucket can pay now (returns 0); otherwise the wait in ms. */
  private admit(item: Waiting, now: number): number {
    const charges = this.chargesOf(item.info, now)
    let wait = 0
    for (const { buckets, name, cost } of charges) wait = Math.max(wait, buckets.waitMs(name, cost, now))
    if (wait > 0) return wait
    for (const { buckets, name, cost } of charges) buckets.take(name, cost, now)
    return 0
  }

  private chargesOf(info: FrameInfo, now: number): Charge[] {
    const own = this.socketBuckets
    switch (info.kind) {
      case 'update': {
        const charges: Charge[] = [
          { buckets: own, name: 'updates', cost: info.counts ? 1 : 0 },
          { buckets: own, name: 'updateBytes', cost: info.bytes },
        ]
        const user = this.userBucketsFor(info.documentName, now)
        if (user) charges.push({ buckets: user, name: 'updates', cost: info.counts ? 1 : 0 }, { buckets: user, name: 'updateBytes', cost: info.bytes })
        return charges
      }
      case 'awareness': {
        const charges: Charge[] = [
          { buckets: own, name: 'awareness', cost: 1 },
          { buckets: own, name: 'awarenessBytes', cost: info.bytes },
        ]
        const user = this.userBucketsFor(info.documentName, now)
        if (user) charges.push({ buckets: user, name: 'awareness', cost: 1 }, { buckets: user, name: 'awarenessBytes', cost: info.bytes })
        return charges
      }
      case 'syncStep1':
        return [{ buckets: own, name: 'syncStep1', cost: 1 }]
      case 'control':
        return [{ buckets: own, name: 'control', cost: 1 }]
    }
  }

  private userBucketsFor(documentName: string, now: number): UserBuckets | undefined {
    const userId = this.socket.userOf(documentName)
    return userId === undefined ? undefined : this.options.userBuckets(userId, now)
  }

  private schedule(waitMs: number, now: number): void {
    const at = now + waitMs
    if (this.timer !== undefined) {
      if (this.timerAt <= at) return
      this.options.clock.clearTimeout(this.timer)
    }
    this.timerAt = at
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined
      this.pump()
    }, waitMs)
  }

  private refuse(refusal: GateRefusal): void {
    this.suspend()
    this.socket.refuse(refusal)
  }

  private pause(): void {
    if (this.paused) return
    this.paused = true
    this.socket.pause()
    this.options.metrics?.paused(true)
  }

  private resume(): void {
    if (!this.paused) return
    this.paused = false
    this.socket.resume()
    this.options.metrics?.paused(false)
  }

  private clear(): void {
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.queue = []
    this.head = 0
    this.queuedBytes = 0
    this.awareness = undefined
  }
}
