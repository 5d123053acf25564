/** Prometheus metrics of push delivery: sends and skips by platform and outcome, send latency, dead deliveries. */
import { Counter, Histogram, type Registry } from 'prom-client'
import type { PushMetrics } from '../../core/delivery/push.ts'

/** Buckets for one send, in seconds: 5 ms to 30 s. */
const SEND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export function createPushMetrics(registry: Registry): PushMetrics {
  const outcomes = new Counter({
    name: 'parley_push_deliveries_total',
    help: 'Push deliveries by platform and outcome: sent, gone (device removed), retry, failed, skipped_<reason>',
    labelNames: ['platform', 'outcome'],
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'parley_push_send_seconds',
    help: 'One push send, from the request to the push service’s answer',
    labelNames: ['platform'],
    buckets: SEND_BUCKETS,
    registers: [registry],
  })
  const dead = new Counter({
    name: 'parley_push_dead_total',
    help: 'Push deliveries given up (dead), by platform',
    labelNames: ['platform'],
    registers: [registry],
  })
  return {
    outcome(platform, outcome, seconds) {
      outcomes.inc({ platform, outcome })
      if (seconds !== undefined) latency.observe({ platform }, seconds)
    },
    dead: (platform) => dead.inc({ platform }),
  }
}
