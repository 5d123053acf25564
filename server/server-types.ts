/** What `createParleyServer` takes beyond the configuration, and the server it returns (server.ts). */
import type { Server as HttpServer } from 'node:http'
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import type { GuardConfiguration } from '../extensions/guard/index.ts'
import type { JoinCacheConfiguration } from '../extensions/join-cache/index.ts'
import type { PresenceConfiguration } from '../extensions/presence/index.ts'
import type { AccessResolver } from '../core/access/resolve.ts'
import type { DevTokenOptions } from './auth/sign.ts'
import type { ParleyConfig } from './config.ts'
import type { AdmitWrite } from './documents/write.ts'
import type { ConnectionOptions } from './http/connections.ts'
import type { FlowOptions } from './flow/index.ts'
import type { PresenceRegistry } from '../core/presence/registry.ts'
import type { ParleyMetrics } from './observability/metrics.ts'
import type { ParleyEvents } from '../core/events.ts'
import type { FeedOptions, FeedService } from './feeds/index.ts'
import type { ClusterPresenceSettings } from './scaling/presence.ts'
import type { PushSender } from '../core/delivery/senders.ts'
import type { Storage } from '../core/storage/types.ts'
import type { WebhookOptions, WebhookService } from './webhooks/index.ts'

export interface ParleyServerOptions extends Partial<ParleyConfig> {
  /** A logger to use instead of a new pino logger at `logLevel`. */
  logger?: Logger
  /** A storage to use instead of the one the configuration selects (tests, embedding). */
  storage?: Storage
  /** Log rows after which a stored document is compacted (default `COMPACT_AFTER_ROWS`, extensions/durability/). */
  compactAfterRows?: number
  /** Write-guard settings beyond the configuration (tests, embedding): size limits, slow readers. */
  guard?: Partial<Omit<GuardConfiguration, 'logger' | 'owners' | 'metrics' | 'forgetPending' | 'closeSocket'>>
  /** Flow-control settings beyond the configuration (tests, embedding): rates, caps, refusal backoff (server/flow/limits.ts). */
  flow?: FlowOptions
  /** Presence timing (tests scale it down): awareness window, heartbeat renewal, silence timeout, sweep period. */
  presence?: Partial<Pick<PresenceConfiguration, 'windowMs' | 'renewMs' | 'timeoutMs' | 'sweepMs'>>
  /** Presence across instances with `REDIS_URL` (tests): key prefix, heartbeat, entry expiry, a signal to stop beating. */
  clusterPresence?: ClusterPresenceSettings
  /**
   * Inbox settings (tests): notifications per inbox document, idle time before it closes, and the
   * stored bytes past which an inbox is rebuilt on load (`INBOX_RESET_BYTES` by default).
   */
  inbox?: { limit?: number; idleMs?: number; resetBytes?: number }
  /** Per-user admission of REST writes (tests, embedding); default: the flow gate's per-user update buckets, shared with the user's sockets. */
  admitWrite?: AdmitWrite
  /** Connection limits beyond the configuration (tests, embedding): upgrade rate, pre-authentication deadline and bytes, HTTP timeouts (server/http/connection-limits.ts). */
  connections?: ConnectionOptions
  /** Push settings beyond the configuration (tests, embedding): extra CA certificates the push services' TLS is checked against (NODE_EXTRA_CA_CERTS works too), more senders. */
  delivery?: { ca?: string[]; senders?: PushSender[] }
  /** Dev mode: where the built demo is served from at `/` (default `DEFAULT_DEMO_DIR`, `dist/demo`). */
  demoDir?: string
  /** Feed settings beyond the configuration (tests, embedding): batching windows, aggregation window, trending half-life, clock. */
  feeds?: FeedOptions
  /** The clock moderation reads (ban expiry); tests inject one. Default `Date.now`. */
  clock?: () => number
  /** Webhook delivery settings (tests shorten the retry schedule): schedule, timeout, concurrency, poll period (server/webhooks/). */
  webhooks?: WebhookOptions
  /** The join cache (extensions/join-cache/): its size threshold and byte cap, or `false` for none (tests compare with and without). */
  joinCache?: Partial<Pick<JoinCacheConfiguration, 'minBytes' | 'maxBytes'>> | false
}

export interface ParleyServer {
  readonly config: ParleyConfig
  readonly hocuspocus: Hocuspocus
  readonly storage: Storage
  /** Roles from every source, for users connected or not ("may this user read this subject?"). */
  readonly access: AccessResolver
  /** Who is present where, who is online (notifications skip pushing to someone looking at the subject). */
  readonly presence: PresenceRegistry
  /** Feed fan-out, batching and documents (issue 18). */
  readonly feeds: FeedService
  /** Typed events in process: `server.events.on('mention.created', handler)`. */
  readonly events: ParleyEvents
  /** Webhook delivery, when `PARLEY_WEBHOOK_URL` is set: `paused` after a 410, `resume()`. */
  readonly webhooks: WebhookService | undefined
  /** Removes notifications older than `PARLEY_NOTIFICATION_MAX_AGE_DAYS` at `now` (it also runs hourly); resolves with how many left. */
  expireNotifications(now?: number): Promise<number>
  readonly logger: Logger
  readonly metrics: ParleyMetrics
  readonly httpServer: HttpServer
  /** Starts listening on `config.host:config.port` (port 0 picks a free one). */
  listen(): Promise<{ host: string; port: number }>
  /** The bound port, once listening. */
  readonly port: number
  /** `http://host:port`, once listening. */
  readonly httpUrl: string
  /** `ws://host:port`, once listening. */
  readonly webSocketUrl: string
  /** Graceful shutdown: stop accepting, close sockets, store and unload documents, close storage. */
  close(): Promise<void>
  /**
   * A token this server accepts, with `parley token`'s defaults (`{ "*": "comment" }`, 24 h): signed
   * with the dev secret in dev mode or PARLEY_JWT_SECRET; throws with a public key or JWKS.
   */
  devToken(userId: string, options?: DevTokenOptions): Promise<string>
}
