/**
 * The connection limits of one server, composed from its configuration (connections per address,
 * trusted proxies) and settings for tests and embedding: per-address admission of upgrades, the
 * pre-authentication watch, and the HTTP server's timeouts. server/http/connection-limits.ts
 * holds the defaults.
 */
import type { RequestListener, Server as HttpServer } from 'node:http'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { AuthenticationWatch } from '../../extensions/auth/index.ts'
import { createAdmission, DEFAULT_ADMISSION_LIMITS, type AdmissionLimits } from './admission.ts'
import { trustedProxies } from './client-address.ts'
import { createConnectionMetrics } from './connection-metrics.ts'
import { createHttpServer, DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from './http-timeouts.ts'
import { createPreAuthGuard, DEFAULT_PRE_AUTH_LIMITS, type PreAuthLimits } from './pre-auth.ts'
import type { ConnectionLimits } from './websocket.ts'

export { pendingAuthOptions } from './pre-auth.ts'

/** Settings beyond the configuration (tests scale them down). */
export interface ConnectionOptions {
  upgrades?: Partial<Pick<AdmissionLimits, 'upgradesPerSecond' | 'upgradeBurst'>>
  preAuth?: Partial<PreAuthLimits>
  http?: Partial<HttpTimeouts>
}

export interface ConnectionGuards {
  /** For attachWebSocket: admission per client address and the pre-authentication watch. */
  readonly limits: ConnectionLimits
  /** For the Authentication extension: ends a socket's pre-authentication limits. */
  readonly authentication: AuthenticationWatch
  /** The HTTP server, with its timeouts. */
  createHttpServer(listener: RequestListener): HttpServer
}

export interface ConnectionGuardsInput {
  connectionsPerAddress: number
  trustedProxies: readonly string[]
  options?: ConnectionOptions | undefined
  logger: Logger
  registry: Registry
}

export function createConnectionGuards(input: ConnectionGuardsInput): ConnectionGuards {
  const { options = {}, logger } = input
  const metrics = createConnectionMetrics(input.registry)
  const admission = createAdmission({
    limits: { ...DEFAULT_ADMISSION_LIMITS, ...options.upgrades, connectionsPerAddress: input.connectionsPerAddress },
    trustedProxies: trustedProxies(input.trustedProxies),
    metrics,
  })
  const preAuth = createPreAuthGuard({ limits: { ...DEFAULT_PRE_AUTH_LIMITS, ...options.preAuth }, logger, metrics })
  const timeouts: HttpTimeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...options.http }
  return {
    limits: { admission, preAuth },
    authentication: preAuth.authentication,
    createHttpServer: (listener) => createHttpServer(listener, timeouts, () => metrics.idleConnectionClosed()),
  }
}
