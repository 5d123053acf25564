/** Prometheus figures of connection admission, pre-authentication limits and HTTP idle closes. */
import { Counter, Gauge, type Registry } from 'prom-client'

/** Why an upgrade was refused with 429: the address holds too many sockets, or opened them too fast. */
export type UpgradeRefusal = 'per_address' | 'rate'

/** Why a socket was closed before its first authentication. */
export type PreAuthClose = 'deadline' | 'bytes'

export interface ConnectionMetrics {
  upgradeRefused(reason: UpgradeRefusal): void
  /** A socket started (+1) or stopped (-1) being unauthenticated. */
  preAuthSockets(delta: number): void
  /** Bytes read from sockets that had not authenticated yet. */
  preAuthBytes(bytes: number): void
  preAuthClosed(reason: PreAuthClose): void
  /** A TCP connection destroyed for not sending its first request in time. */
  idleConnectionClosed(): void
}

export function createConnectionMetrics(registry: Registry): ConnectionMetrics {
  const refused = new Counter({
    name: 'parley_upgrades_refused_total',
    help: 'WebSocket upgrades refused with 429, by reason (per_address: too many open sockets; rate: too many attempts)',
    labelNames: ['reason'],
    registers: [registry],
  })
  const sockets = new Gauge({ name: 'parley_pre_auth_sockets', help: 'Open WebSockets that have not authenticated any document yet', registers: [registry] })
  const bytes = new Counter({
    name: 'parley_pre_auth_bytes_total',
    help: 'Bytes read from WebSockets before their first authenticated document',
    registers: [registry],
  })
  const closed = new Counter({
    name: 'parley_pre_auth_closes_total',
    help: 'WebSockets closed before their first authentication, by reason (deadline, bytes)',
    labelNames: ['reason'],
    registers: [registry],
  })
  const idle = new Counter({
    name: 'parley_http_idle_closes_total',
    help: 'TCP connections destroyed for not sending a first request in time',
    registers: [registry],
  })
  return {
    upgradeRefused: (reason) => refused.inc({ reason }),
    preAuthSockets: (delta) => sockets.inc(delta),
    preAuthBytes: (n) => bytes.inc(n),
    preAuthClosed: (reason) => closed.inc({ reason }),
    idleConnectionClosed: () => idle.inc(),
  }
}
