/**
 * Limits on connections before any message is read: per client address, before a socket's first
 * authentication, and on the HTTP server's idle and slow connections. Each is a named constant so
 * that operators and tests can find it; the ones operators tune are variables (server/config.ts).
 */
import { CloseCode } from '../../protocol/index.ts'

/** Concurrent WebSocket connections one client address may hold (`PARLEY_CONNECTIONS_PER_ADDRESS`; contract floor 256; 0 = no limit). */
export const CONNECTIONS_PER_ADDRESS = 256
/** WebSocket upgrades one client address may make per second, sustained. */
export const UPGRADES_PER_ADDRESS_PER_SECOND = 20
/** Upgrades one address may make at once. */
export const UPGRADE_BURST_PER_ADDRESS = 200
/** IPv6 clients are counted per network of this prefix length (one host usually holds a whole /64). */
export const IPV6_CLIENT_PREFIX_LENGTH = 64

/** Time from a WebSocket's opening to its first authenticated document; past it the socket is closed with {@link PRE_AUTH_TIMEOUT_CLOSE}. */
export const PRE_AUTH_DEADLINE_MS = 10_000
/** Bytes a socket may send before its first document is authenticated; past them (and no authentication under way) it is closed with {@link PRE_AUTH_OVERFLOW_CLOSE}. */
export const PRE_AUTH_MAX_BYTES = 64 * 1024
/** How long a socket closed for a pre-authentication limit may take to answer the close before it is cut. */
export const PRE_AUTH_CLOSE_GRACE_MS = 2_000
/** Close of a socket that authenticated no document within {@link PRE_AUTH_DEADLINE_MS} (Hocuspocus's own timeout close). */
export const PRE_AUTH_TIMEOUT_CLOSE = CloseCode.ConnectionTimeout
/** Close of a socket that sent more than {@link PRE_AUTH_MAX_BYTES} unauthenticated (Hocuspocus's own queue-limit close). */
export const PRE_AUTH_OVERFLOW_CLOSE = CloseCode.ResetConnection

/**
 * Bytes Hocuspocus may hold on any socket for documents whose authentication has not finished
 * (`maxUnauthenticatedQueueSize`, default 5 MiB). Applies to authenticated sockets opening more
 * documents too, and a reconnect sends every document's SyncStep1 before the first is decided.
 */
export const PENDING_AUTH_MAX_BYTES = 1024 * 1024
/** Frames Hocuspocus may hold on any socket for documents whose authentication has not finished (`maxUnauthenticatedQueueMessages`). */
export const PENDING_AUTH_MAX_FRAMES = 1_000

/** A new TCP connection must deliver its first request's headers within this time, or it is destroyed (node:http has no such limit). */
export const FIRST_REQUEST_TIMEOUT_MS = 10_000
/** Time to receive a request's headers (node:http `headersTimeout`; Node's default is 60 s). */
export const HEADERS_TIMEOUT_MS = 10_000
/** Time to receive a whole request, body included (node:http `requestTimeout`; Node's default is 300 s). */
export const REQUEST_TIMEOUT_MS = 30_000
/** An idle keep-alive HTTP connection is closed after this long (node:http `keepAliveTimeout`, Node's default). */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000
/** How often node:http enforces the header and request timeouts (`connectionsCheckingInterval`; Node's default is 30 s). */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000
