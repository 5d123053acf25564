/**
 * Slow readers: a socket whose send buffer stays above a bound is closed with a documented
 * reason, rather than letting server memory grow with everything it cannot take.
 */
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { CloseCode } from '../../protocol/index.ts'
import { SLOW_READER_CLOSE_TIMEOUT_MS, SLOW_READER_GRACE_MS, SLOW_READER_MAX_BUFFERED_BYTES, SLOW_READER_SWEEP_MS } from '../../core/guard/limits.ts'

/** Close code and reason for a socket closed as a slow reader. */
export const SLOW_READER_CLOSE = CloseCode.SlowReader

interface Buffered {
  bufferedAmount?: number
  close(code?: number, reason?: string): void
  terminate?(): void
}

export interface SlowReaderWatch {
  stop(): void
}

export interface SlowReaderLimits {
  maxBufferedBytes: number
  graceMs: number
  sweepMs: number
  /** The close frame waits behind everything buffered; past this the socket is cut. */
  closeTimeoutMs: number
}

export const DEFAULT_SLOW_READER_LIMITS: SlowReaderLimits = {
  maxBufferedBytes: SLOW_READER_MAX_BUFFERED_BYTES,
  graceMs: SLOW_READER_GRACE_MS,
  sweepMs: SLOW_READER_SWEEP_MS,
  closeTimeoutMs: SLOW_READER_CLOSE_TIMEOUT_MS,
}

export function watchSlowReaders(
  instance: Hocuspocus,
  logger: Logger,
  onClosed: () => void,
  limits: SlowReaderLimits = DEFAULT_SLOW_READER_LIMITS,
): SlowReaderWatch {
  /** When each socket was first seen above the bound. */
  const since = new WeakMap<Buffered, number>()
  /** Sockets already closed as slow readers: their close frame waits behind the same full buffer, so they stay listed (and full) until cut. */
  const closing = new WeakSet<Buffered>()
  const timer = setInterval(() => {
    const now = Date.now()
    const seen = new Set<Buffered>()
    for (const document of instance.documents.values()) {
      for (const connection of document.getConnections()) {
        const socket = connection.webSocket as Buffered
        if (seen.has(socket) || closing.has(socket)) continue
        seen.add(socket)
        if ((socket.bufferedAmount ?? 0) <= limits.maxBufferedBytes) {
          since.delete(socket)
          continue
        }
        const first = since.get(socket) ?? now
        since.set(socket, first)
        if (now - first >= limits.graceMs) {
          since.delete(socket)
          closing.add(socket)
          onClosed()
          logger.warn({ socketId: connection.socketId, buffered: socket.bufferedAmount }, 'closing a slow reader')
          socket.close(SLOW_READER_CLOSE.code, SLOW_READER_CLOSE.reason)
          // A reader that does not read will not read the close frame either: cut it after a while.
          setTimeout(() => socket.terminate?.(), limits.closeTimeoutMs).unref()
        }
      }
    }
  }, limits.sweepMs)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
