/** Prometheus metrics of email delivery: sends and skips by outcome, send latency, dead deliveries. */
import { Counter, Histogram, type Registry } from 'prom-client'
import type { EmailMetrics } from '../../core/email/sender.ts'

/** Buckets for one send, in seconds: 5 ms to 30 s. */
const SEND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export function createEmailMetrics(registry: Registry): EmailMetrics {
  const outcomes = new Counter({
    name: 'parley_email_deliveries_total',
    help: 'Email deliveries by outcome: sent, retry, failed (5xx), skipped_<reason>',
    labelNames: ['outcome'],
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'parley_email_send_seconds',
    help: 'One email send, from the SMTP transaction’s start to the server’s answer',
    buckets: SEND_BUCKETS,
    registers: [registry],
  })
  const dead = new Counter({ name: 'parley_email_dead_total', help: 'Email deliveries given up (dead)', registers: [registry] })
  return {
    outcome(outcome, seconds) {
      outcomes.inc({ outcome })
      if (seconds !== undefined) latency.observe(seconds)
    },
    dead: () => dead.inc(),
  }
}
