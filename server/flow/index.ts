/**
 * Flow control for WebSocket messages (contract: "Flow control"). One {@link SocketGate} per
 * socket meters what the client sends before Hocuspocus reads it and slows the socket rather than
 * refusing; the {@link SocketDocuments} extension tells the gates who is authenticated where and
 * caps the documents per socket; {@link FlowControl.closeForRefusal} closes a socket after a
 * refusal, with a backoff for repeats, so that a standard provider reconnects and resyncs.
 */
import type { WebSocketLike } from '@hocuspocus/server'
import type { Logger } from 'pino'
import type { WebSocket } from 'ws'
import { closeCodeFor, CloseCode, err, OK, type Result } from '../../protocol/index.ts'
import { KeyedBuckets } from './bucket.ts'
import { SocketGate, SYSTEM_CLOCK, type Clock, type GateLimits, type GateOptions, type UserBucketName } from './gate.ts'
import * as limits from './limits.ts'
import type { FlowMetrics } from './metrics.ts'
import { DEFAULT_REFUSAL_BACKOFF, RefusalBackoff, type RefusalBackoffLimits } from './refusals.ts'
import { SocketDocuments } from './registry.ts'
import { FlowSocket, flowSocketOf, watchSocket, type FlowSocketHost, type SocketRefusal } from './socket.ts'

export type { SocketRefusal } from './socket.ts'

export { SocketGate, type GateLimits } from './gate.ts'
export { SocketDocuments } from './registry.ts'
export { createFlowMetrics, type FlowMetrics } from './metrics.ts'

export const DEFAULT_FLOW_LIMITS: GateLimits = {
  updates: { perSecond: limits.UPDATES_PER_SECOND, burst: limits.UPDATE_BURST },
  updateBytes: { perSecond: limits.UPDATE_BYTES_PER_SECOND, burst: limits.UPDATE_BYTES_BURST },
  awareness: { perSecond: limits.AWARENESS_PER_SECOND, burst: limits.AWARENESS_BURST },
  awarenessBytes: { perSecond: limits.AWARENESS_BYTES_PER_SECOND, burst: limits.AWARENESS_BYTES_BURST },
  syncStep1: { perSecond: limits.SYNC_STEP1_PER_SECOND, burst: limits.SYNC_STEP1_BURST },
  control: { perSecond: limits.CONTROL_PER_SECOND, burst: limits.CONTROL_BURST },
  readBytes: { perSecond: limits.READ_BYTES_PER_SECOND, burst: limits.READ_BYTES_BURST },
  ceilingBytes: { perSecond: limits.INBOUND_CEILING_BYTES_PER_SECOND, burst: limits.INBOUND_CEILING_BYTES_BURST },
  ceilingFrames: { perSecond: limits.INBOUND_CEILING_FRAMES_PER_SECOND, burst: limits.INBOUND_CEILING_FRAMES_BURST },
  maxQueuedFrames: limits.MAX_QUEUED_FRAMES,
  maxQueuedBytes: limits.MAX_QUEUED_BYTES,
  maxStateVectorBytes: limits.MAX_STATE_VECTOR_BYTES,
  maxAwarenessStateBytes: limits.MAX_AWARENESS_STATE_BYTES,
  maxAwarenessStates: limits.MAX_AWARENESS_STATES_PER_MESSAGE,
  maxAwarenessEntries: limits.MAX_AWARENESS_ENTRIES_PER_MESSAGE,
  maxDocumentsPerSocket: limits.MAX_DOCUMENTS_PER_SOCKET,
}

/** Settings of flow control beyond the defaults (tests, embedding); `updates` comes from the configuration. */
export type FlowOptions = Partial<GateLimits> & { refusalBackoff?: Partial<RefusalBackoffLimits> }

export interface FlowControl {
  readonly limits: GateLimits
  /** Install in Hocuspocus: who is authenticated where, and the documents-per-socket cap. */
  readonly extension: SocketDocuments
  /** Puts a gate on a new socket; `deliver` hands a frame to Hocuspocus. The caller closes the gate (`close()`) when the socket closes. */
  attach(ws: WebSocket, remoteAddress: string, deliver: (frame: Uint8Array) => void): SocketGate
  /**
   * Closes a socket after a refusal its client was told of (`parley.error`), at once the first
   * time, after a growing hold when the same refusal repeats; the socket is not read meanwhile.
   */
  closeForRefusal(webSocket: WebSocketLike, refusal: SocketRefusal): void
  /**
   * A write that does not come through a socket (REST): draws one update and its bytes from the
   * user's buckets, the ones the user's sockets share, or says how long to wait. It is never
   * delayed: REST answers 429 with `Retry-After` instead.
   */
  admitWrite(userId: string, bytes: number): Result<void, { retryAfterMs: number }>
}

export interface FlowControlOptions extends FlowOptions {
  logger: Logger
  metrics?: FlowMetrics | undefined
  clock?: Clock
}

/** `readyState` of a WebSocket whose close has begun (then 3, closed). */
const CLOSING = 2

/**
 * The byte rate of updates follows an update rate raised above the default (PARLEY_UPDATES_PER_SECOND,
 * PARLEY_UPDATE_BURST) in proportion, so that raising the count is not undone by the bytes; it never
 * goes below the default.
 */
export function scaledUpdateBytes(updates: GateLimits['updates'] | undefined): GateLimits['updateBytes'] {
  const defaults = DEFAULT_FLOW_LIMITS
  if (!updates) return defaults.updateBytes
  return {
    perSecond: defaults.updateBytes.perSecond * Math.max(1, updates.perSecond / defaults.updates.perSecond),
    burst: defaults.updateBytes.burst * Math.max(1, updates.burst / defaults.updates.burst),
  }
}

export function createFlowControl(options: FlowControlOptions): FlowControl {
  const { logger, metrics, refusalBackoff, clock = SYSTEM_CLOCK, ...overrides } = options
  const gateLimits: GateLimits = { ...DEFAULT_FLOW_LIMITS, updateBytes: scaledUpdateBytes(overrides.updates), ...overrides }
  const now = clock.now()
  const users = new KeyedBuckets<UserBucketName>(
    { updates: gateLimits.updates, updateBytes: gateLimits.updateBytes, awareness: gateLimits.awareness, awarenessBytes: gateLimits.awarenessBytes },
    limits.IDLE_BUCKET_FORGET_MS,
    now,
  )
  const backoff = new RefusalBackoff({ ...DEFAULT_REFUSAL_BACKOFF, ...refusalBackoff }, now)
  /** Sockets whose refusal close is held back, with its code. */
  const held = new WeakMap<object, number>()
  const extension = new SocketDocuments({ maxDocuments: gateLimits.maxDocumentsPerSocket, logger, onRefused: () => metrics?.documentRefused() })

  function closeForRefusal(webSocket: WebSocketLike, refusal: SocketRefusal): void {
    const close = closeCodeFor(refusal.code) ?? CloseCode.RateLimited
    // Not the code: after a `too_large` the same client id is refused as `write_rejected`; one loop.
    const key = [refusal.sender, refusal.documentName ?? '', refusal.detail ?? ''].join('\0')
    const holdMs = backoff.holdMs(key, clock.now())
    flowSocketOf(webSocket)?.gate?.suspend()
    // Already on its way out (several documents refused at once, storage down): counted once.
    if (webSocket.readyState >= CLOSING || held.has(webSocket)) return
    metrics?.socketClosed(String(close.code))
    logger.info({ code: refusal.code, documentName: refusal.documentName, sender: refusal.sender, holdMs }, 'closing a socket after a refusal')
    if (holdMs === 0) {
      webSocket.close(close.code, close.reason)
      return
    }
    held.set(webSocket, close.code)
    clock.setTimeout(() => {
      held.delete(webSocket)
      webSocket.close(close.code, close.reason)
    }, holdMs)
  }

  const host: FlowSocketHost = { extension, logger, closeForRefusal, heldCode: (ws) => held.get(ws) }
  const gateOptions: GateOptions = { userBuckets: (userId, at) => users.get(userId, at), limits: gateLimits, clock, metrics }

  function admitWrite(userId: string, bytes: number): Result<void, { retryAfterMs: number }> {
    const at = clock.now()
    const buckets = users.get(userId, at)
    const waitMs = Math.max(buckets.waitMs('updates', 1, at), buckets.waitMs('updateBytes', bytes, at))
    if (waitMs > 0) return err({ retryAfterMs: waitMs })
    buckets.take('updates', 1, at)
    buckets.take('updateBytes', bytes, at)
    return OK
  }

  return {
    limits: gateLimits,
    extension,
    closeForRefusal,
    admitWrite,
    attach(ws, remoteAddress, deliver) {
      const socket = new FlowSocket(ws, remoteAddress, deliver, host)
      const gate = new SocketGate(gateOptions, socket)
      socket.gate = gate
      watchSocket(socket)
      return gate
    },
  }
}
