/**
 * Traffic metrics: messages in (by type), broadcasts out (recipients and time), applied update
 * sizes, and connect/disconnect debug logs carrying the document name and user id.
 *
 * Every hook here catches, logs and counts its own errors: Hocuspocus closes a connection when
 * `beforeHandleMessage` throws and does not await `onChange`, so a throw must never escape.
 */
import type {
  Document,
  Extension,
  afterLoadDocumentPayload,
  beforeHandleMessagePayload,
  connectedPayload,
  onChangePayload,
  onDisconnectPayload,
} from '@hocuspocus/server'
import * as decoding from 'lib0/decoding'
import type { Logger } from 'pino'
import { logFields, type LogFields } from '../context.ts'
import { PRIORITY } from '../priorities.ts'

/** What a broadcast carried; one flush of a document can carry both. */
export type BroadcastKind = 'update' | 'awareness'

export interface TrafficMetrics {
  /** One message from a client on an established document connection. */
  messageIn(type: string, bytes: number): void
  /** Messages of one kind sent to `recipients` connections by one broadcast. */
  broadcastSent(kind: BroadcastKind, recipients: number): void
  /** How long one broadcast (encoding and sending to every connection) took. */
  broadcastTime(seconds: number): void
  /** A Yjs update applied to a document (from a client, the server or another instance). */
  updateApplied(bytes: number): void
  /** An error caught in one of this extension's hooks. */
  hookError(hook: string): void
}

export interface MetricsConfiguration {
  metrics: TrafficMetrics
  logger: Logger
}

/** Hocuspocus message types by number, as they appear after the document name. */
const MESSAGE_TYPES: readonly string[] = [
  'sync',
  'awareness',
  'auth',
  'query_awareness',
  'sync_reply',
  'stateless',
  'broadcast_stateless',
  'close',
  'sync_status',
  'ping',
  'pong',
]

/** y-protocols sync sub-types (a sync message's second number). */
const SYNC_STEPS: readonly string[] = ['step1', 'step2', 'update']

/** The label of a raw Hocuspocus frame: `sync_update`, `awareness`, …; `unknown` if undecodable. */
export function messageTypeOf(frame: Uint8Array): string {
  try {
    const decoder = decoding.createDecoder(frame)
    decoding.readVarString(decoder)
    const type = decoding.readVarUint(decoder)
    const name = MESSAGE_TYPES[type] ?? 'unknown'
    if (name !== 'sync' && name !== 'sync_reply') return name
    return `${name}_${SYNC_STEPS[decoding.readVarUint(decoder)] ?? 'unknown'}`
  } catch {
    return 'unknown'
  }
}

export class Metrics implements Extension {
  readonly extensionName = 'parley-metrics'
  readonly priority = PRIORITY.metrics
  private readonly configuration: MetricsConfiguration

  constructor(configuration: MetricsConfiguration) {
    this.configuration = configuration
  }

  private failed(hook: string, error: unknown, fields: LogFields): void {
    try {
      this.configuration.metrics.hookError(hook)
      this.configuration.logger.error({ ...fields, err: error, hook }, 'metrics hook failed')
    } catch {
      // Nothing left to report to; the message or change goes on regardless.
    }
  }

  async beforeHandleMessage(payload: beforeHandleMessagePayload): Promise<void> {
    try {
      this.configuration.metrics.messageIn(messageTypeOf(payload.update), payload.update.byteLength)
    } catch (error) {
      this.failed('beforeHandleMessage', error, logFields(payload))
    }
  }

  async onChange(payload: onChangePayload): Promise<void> {
    try {
      this.configuration.metrics.updateApplied(payload.update.byteLength)
    } catch (error) {
      this.failed('onChange', error, logFields(payload))
    }
  }

  async afterLoadDocument(payload: afterLoadDocumentPayload): Promise<void> {
    try {
      this.timeBroadcasts(payload.document)
    } catch (error) {
      this.failed('afterLoadDocument', error, logFields(payload))
    }
  }

  async connected(payload: connectedPayload): Promise<void> {
    try {
      this.configuration.logger.debug(logFields(payload), 'connected')
    } catch (error) {
      this.failed('connected', error, {})
    }
  }

  async onDisconnect(payload: onDisconnectPayload): Promise<void> {
    try {
      this.configuration.logger.debug({ ...logFields(payload), clients: payload.clientsCount }, 'disconnected')
    } catch (error) {
      this.failed('onDisconnect', error, {})
    }
  }

  /**
   * Times the document's broadcasts. Hocuspocus buffers a document's updates and awareness
   * changes and sends them to every connection from `Document.flush()` (same tick with the
   * default `flushDelay: 0`), so wrapping that public method of this one document measures the
   * whole fan-out. Our listeners run after Hocuspocus's own, which buffer; an update of at least
   * `flushMaxBytes` (1 MiB) flushes synchronously before our listener marks it, so that one
   * broadcast is counted with the next.
   */
  private timeBroadcasts(document: Document): void {
    const pending = { update: false, awareness: false }
    document.on('update', () => {
      pending.update = true
    })
    document.awareness.on('update', () => {
      pending.awareness = true
    })
    const flush = document.flush.bind(document)
    document.flush = () => {
      if (!pending.update && !pending.awareness) return flush()
      const started = performance.now()
      const result = flush()
      const seconds = (performance.now() - started) / 1000
      try {
        const { metrics } = this.configuration
        const recipients = document.getConnections().length
        if (pending.update) metrics.broadcastSent('update', recipients)
        if (pending.awareness) metrics.broadcastSent('awareness', recipients)
        metrics.broadcastTime(seconds)
      } catch (error) {
        this.failed('broadcast', error, { documentName: document.name })
      }
      pending.update = false
      pending.awareness = false
      return result
    }
  }
}
