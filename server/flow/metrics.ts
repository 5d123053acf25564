/** Prometheus figures of flow control: frames slowed, awareness coalesced or dropped, sockets paused or closed. */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { GateMetrics } from './gate.ts'

export interface FlowMetrics extends GateMetrics {
  /** A socket was closed after a refusal (or cut), with the code of its close. */
  socketClosed(code: string): void
  /** Opening a document was refused: the socket has too many open. */
  documentRefused(): void
}

export function createFlowMetrics(registry: Registry): FlowMetrics {
  const delayed = new Counter({
    name: 'parley_flow_delayed_frames_total',
    help: 'Incoming frames that waited for their rate (the socket was slowed), by kind',
    labelNames: ['kind'],
    registers: [registry],
  })
  const coalesced = new Counter({
    name: 'parley_flow_awareness_coalesced_total',
    help: 'Waiting awareness frames replaced by a newer one of the same document',
    registers: [registry],
  })
  const dropped = new Counter({
    name: 'parley_flow_awareness_dropped_total',
    help: 'Awareness frames dropped before Hocuspocus read them, by reason',
    labelNames: ['reason'],
    registers: [registry],
  })
  const paused = new Gauge({ name: 'parley_flow_paused_sockets', help: 'Sockets the server is reading more slowly right now', registers: [registry] })
  const closed = new Counter({
    name: 'parley_flow_socket_closes_total',
    help: 'Sockets closed after a refusal or cut by flow control, by code',
    labelNames: ['code'],
    registers: [registry],
  })
  const refused = new Counter({
    name: 'parley_flow_documents_refused_total',
    help: 'Documents refused because their socket had too many open',
    registers: [registry],
  })
  return {
    delayed: (kind) => delayed.inc({ kind }),
    coalesced: () => coalesced.inc(),
    awarenessDropped: (reason) => dropped.inc({ reason }),
    paused: (on) => (on ? paused.inc() : paused.dec()),
    socketClosed: (code) => closed.inc({ code }),
    documentRefused: () => refused.inc(),
  }
}
