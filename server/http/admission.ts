/**
 * Admission of WebSocket upgrades per client address (server/http/client-address.ts): at most
 * `connectionsPerAddress` open sockets at once (`PARLEY_CONNECTIONS_PER_ADDRESS`), and upgrades
 * at a sustained rate with a burst (a token bucket per address). A refused upgrade is answered
 * `429` with the REST error body `rate_limited` and the socket is closed; the rate refusal says
 * when to retry (`Retry-After`). A limit of 0 lifts both: every address is admitted.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { err, ErrorCode, ok, type Result } from '../../protocol/index.ts'
import { addressKey, clientAddress, NO_TRUSTED_PROXIES, type TrustedProxies } from './client-address.ts'
import { CONNECTIONS_PER_ADDRESS, UPGRADE_BURST_PER_ADDRESS, UPGRADES_PER_ADDRESS_PER_SECOND } from './connection-limits.ts'
import type { ConnectionMetrics } from './connection-metrics.ts'
import { createUserRateLimiter, type UserRateLimiter } from './rate-limit.ts'

export interface AdmissionLimits {
  /** Open sockets one client address may hold; 0 = no per-address limit (nor upgrade rate). */
  connectionsPerAddress: number
  /** Upgrades per second one address may make, sustained. */
  upgradesPerSecond: number
  /** Upgrades one address may make at once. */
  upgradeBurst: number
}

export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = {
  connectionsPerAddress: CONNECTIONS_PER_ADDRESS,
  upgradesPerSecond: UPGRADES_PER_ADDRESS_PER_SECOND,
  upgradeBurst: UPGRADE_BURST_PER_ADDRESS,
}

export interface AdmissionOptions {
  limits: AdmissionLimits
  trustedProxies?: TrustedProxies
  metrics?: ConnectionMetrics | undefined
}

/** An admitted upgrade (counted until its socket closes), or a refusal: the raw HTTP response to end the socket with, if any. */
export type Admission = Result<string, string | undefined>

export interface ConnectionAdmission {
  /** Decides an upgrade request on `socket`; an admitted socket counts for its address until it closes. */
  admit(request: IncomingMessage, socket: Duplex): Admission
  /** Open sockets counted for the address's key. */
  openFrom(address: string): number
}

/** The raw `429` an upgrade is refused with: the REST error body, and `Retry-After` when known. */
export function tooManyRequests(message: string, retryAfterSeconds?: number): string {
  const body = JSON.stringify({ error: { code: ErrorCode.RateLimited, message } })
  const retry = retryAfterSeconds === undefined ? '' : `Retry-After: ${retryAfterSeconds}\r\n`
  return `HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`
}

export function createAdmission(options: AdmissionOptions): ConnectionAdmission {
  const { limits, trustedProxies = NO_TRUSTED_PROXIES, metrics } = options
  const max = limits.connectionsPerAddress
  const upgrades: UserRateLimiter = createUserRateLimiter({ perSecond: limits.upgradesPerSecond, burst: limits.upgradeBurst })
  const open = new Map<string, number>()

  const release = (key: string) => {
    const count = (open.get(key) ?? 1) - 1
    if (count > 0) open.set(key, count)
    else open.delete(key)
  }

  return {
    admit(request, socket) {
      const address = clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], trustedProxies)
      if (address === undefined || socket.destroyed) return err(undefined)
      if (max === 0) return ok(address)
      const key = addressKey(address)
      if ((open.get(key) ?? 0) >= max) {
        metrics?.upgradeRefused('per_address')
        return err(tooManyRequests(`too many open connections from this address (at most ${max})`))
      }
      const decision = upgrades.take(key)
      if (!decision.ok) {
        metrics?.upgradeRefused('rate')
        return err(tooManyRequests('too many connection attempts from this address', decision.error.retryAfterSeconds))
      }
      open.set(key, (open.get(key) ?? 0) + 1)
      socket.once('close', () => release(key))
      return ok(address)
    },
    openFrom(address) {
      return open.get(addressKey(address)) ?? 0
    },
  }
}
