/**
 * Presence: coalesced awareness fan-out per document (coalescer.ts) and the user-level presence
 * registry (core/presence/registry.ts), fed from connections and awareness.
 *
 * Hocuspocus applies an incoming awareness update to the document's Awareness, whose `update`
 * listener (in `Document`) broadcasts it to every connection at once. The supported way in is
 * `beforeHandleAwareness`, whose `states` map an extension may rewrite: this extension runs after
 * the guard has filtered it, takes the states out, and applies them to the Awareness itself once
 * per window, so that one frame per window reaches each reader. Document updates are untouched
 * and never wait. States from other instances (Redis) pass through as they come: their instance
 * coalesced them already.
 *
 * `beforeHandleAwareness` is awaited and the other hooks are not: every hook catches, logs and
 * counts its own errors. If coalescing fails, the message is relayed as Hocuspocus would.
 */
import type {
  Extension,
  afterLoadDocumentPayload,
  afterUnloadDocumentPayload,
  beforeHandleAwarenessPayload,
  beforeHandleMessagePayload,
  Connection,
  connectedPayload,
  onAwarenessUpdatePayload,
  onConfigurePayload,
  onDestroyPayload,
  onDisconnectPayload,
} from '@hocuspocus/server'
import type { Logger } from 'pino'
import { parsePresenceState } from '../../protocol/index.ts'
import { PRESENCE_TIMEOUT_MS, type PresenceRegistry } from '../../core/presence/registry.ts'
import { userIdOf, type ParleyContext } from '../context.ts'
import { PRIORITY } from '../priorities.ts'
import { awarenessClocks } from '../../core/presence/clocks.ts'
import { AwarenessCoalescer, type CoalescerTiming, type WindowReport } from '../../core/presence/coalescer.ts'

/** Window of the awareness fan-out: a document's changed states go out together once per window. */
export const AWARENESS_WINDOW_MS = 150

/** A heartbeat (unchanged state) is forwarded at most once per this interval per client; well under y-protocols' 30 s expiry. */
export const AWARENESS_RENEW_MS = 10_000

/** How often clients silent for the presence timeout are looked for. */
export const PRESENCE_SWEEP_MS = 5_000

export interface PresenceMetrics {
  /** One coalesced window went out. */
  window(report: WindowReport): void
  /** Heartbeats not forwarded. */
  absorbed(count: number): void
  hookError(hook: string): void
}

export interface PresenceConfiguration extends CoalescerTiming {
  /** How often silent clients are swept out. */
  sweepMs: number
  registry: PresenceRegistry
  logger: Logger
  metrics: PresenceMetrics | undefined
}

/** The timing defaults; tests scale them down. */
export const DEFAULT_PRESENCE_TIMING: CoalescerTiming & { sweepMs: number } = {
  windowMs: AWARENESS_WINDOW_MS,
  renewMs: AWARENESS_RENEW_MS,
  timeoutMs: PRESENCE_TIMEOUT_MS,
  sweepMs: PRESENCE_SWEEP_MS,
}

export class Presence implements Extension {
  readonly extensionName = 'parley-presence'
  readonly priority = PRIORITY.presence
  private readonly configuration: PresenceConfiguration
  private readonly documents = new Map<string, AwarenessCoalescer>()
  /** The clocks of the awareness message each connection is handling (messages are handled one at a time). */
  private readonly clocks = new WeakMap<Connection, Map<number, number>>()
  private sweeper: NodeJS.Timeout | undefined

  constructor(configuration: Partial<PresenceConfiguration> & Pick<PresenceConfiguration, 'registry' | 'logger'>) {
    this.configuration = { ...DEFAULT_PRESENCE_TIMING, metrics: undefined, ...configuration }
  }

  private failed(hook: string, error: unknown, documentName?: string): void {
    this.configuration.metrics?.hookError(hook)
    this.configuration.logger.error({ err: error, documentName, hook }, 'presence hook failed')
  }

  async onConfigure(_: onConfigurePayload): Promise<void> {
    this.sweeper = setInterval(() => {
      const now = Date.now()
      for (const [documentName, coalescer] of this.documents) {
        try {
          coalescer.sweep(now)
        } catch (error) {
          this.failed('presenceSweep', error, documentName)
        }
      }
    }, this.configuration.sweepMs)
    this.sweeper.unref()
  }

  async onDestroy(_: onDestroyPayload): Promise<void> {
    clearInterval(this.sweeper)
    for (const coalescer of this.documents.values()) coalescer.destroy()
    this.documents.clear()
  }

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload<ParleyContext>): Promise<void> {
    const coalescer = new AwarenessCoalescer(
      document,
      this.configuration,
      (report) => this.configuration.metrics?.window(report),
      (error) => this.failed('presenceWindow', error, documentName),
    )
    this.documents.get(documentName)?.destroy()
    this.documents.set(documentName, coalescer)
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.documents.get(documentName)?.destroy()
    this.documents.delete(documentName)
    this.configuration.registry.clearDocument(documentName)
  }

  /** Reads the clocks of an awareness message for {@link beforeHandleAwareness}, which runs next. */
  async beforeHandleMessage({ connection, update, documentName }: beforeHandleMessagePayload<ParleyContext>): Promise<void> {
    try {
      const clocks = awarenessClocks(update)
      if (clocks) this.clocks.set(connection, clocks)
    } catch (error) {
      this.failed('beforeHandleMessage', error, documentName)
    }
  }

  async beforeHandleAwareness({ connection, context, documentName, states }: beforeHandleAwarenessPayload<ParleyContext>): Promise<void> {
    if (!connection) return
    const clocks = this.clocks.get(connection)
    this.clocks.delete(connection)
    try {
      const userId = userIdOf(context)
      if (userId !== undefined) this.configuration.registry.seen(userId)
      const coalescer = this.documents.get(documentName)
      if (!coalescer || states.size === 0) return
      const absorbed = coalescer.receive(connection.socketId, states, Date.now(), clocks)
      if (absorbed > 0) this.configuration.metrics?.absorbed(absorbed)
    } catch (error) {
      this.failed('beforeHandleAwareness', error, documentName)
    }
  }

  /** Keeps the registry equal to what the document's readers see. */
  async onAwarenessUpdate({ documentName, added, updated, removed, awareness }: onAwarenessUpdatePayload<ParleyContext>): Promise<void> {
    try {
      const { registry } = this.configuration
      const states = awareness.getStates()
      for (const clientId of [...added, ...updated]) {
        const state = parsePresenceState(states.get(clientId))
        if (state) registry.setState(documentName, clientId, state)
        else registry.removeState(documentName, clientId)
      }
      for (const clientId of removed) registry.removeState(documentName, clientId)
    } catch (error) {
      this.failed('onAwarenessUpdate', error, documentName)
    }
  }

  async connected({ context, documentName, socketId }: connectedPayload<ParleyContext>): Promise<void> {
    try {
      const userId = userIdOf(context)
      if (userId !== undefined) this.configuration.registry.connected(userId, documentName, socketId)
    } catch (error) {
      this.failed('connected', error, documentName)
    }
  }

  async onDisconnect({ context, documentName, socketId }: onDisconnectPayload<ParleyContext>): Promise<void> {
    try {
      const userId = userIdOf(context)
      if (userId !== undefined) this.configuration.registry.disconnected(userId, documentName, socketId)
      this.documents.get(documentName)?.disconnect(socketId)
    } catch (error) {
      this.failed('onDisconnect', error, documentName)
    }
  }
}
