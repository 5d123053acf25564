/** Prometheus metrics of webhooks: attempts by outcome, event-to-delivery latency, dead events, a paused endpoint. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** Event-to-delivery buckets, in seconds: 10 ms to a day (retries spread over about a day). */
const DELIVERY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400]

export interface WebhookMetrics {
  /** One attempt: `sent`, `retry`, `gone` (410), `no_answer` (timeout, connection). */
  attempt(outcome: 'sent' | 'retry' | 'gone' | 'no_answer'): void
  delivered(seconds: number): void
  dead(): void
  /** An event could not be recorded (it is lost; logged). */
  recordFailed(): void
  paused(paused: boolean): void
}

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const attempts = new Counter({
    name: 'parley_webhook_attempts_total',
    help: 'Webhook POSTs by outcome: sent, retry, gone (410, endpoint paused), no_answer',
    labelNames: ['outcome'],
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'parley_webhook_delivery_seconds',
    help: 'From an event to its accepted delivery, retries included',
    buckets: DELIVERY_BUCKETS,
    registers: [registry],
  })
  const dead = new Counter({ name: 'parley_webhook_dead_total', help: 'Webhook events given up (dead)', registers: [registry] })
  const recordFailed = new Counter({
    name: 'parley_webhook_record_failures_total',
    help: 'Events that could not be recorded in the webhook outbox',
    registers: [registry],
  })
  const paused = new Gauge({ name: 'parley_webhook_paused', help: '1 while the endpoint is paused after a 410', registers: [registry] })
  return {
    attempt: (outcome) => attempts.inc({ outcome }),
    delivered: (seconds) => latency.observe(seconds),
    dead: () => dead.inc(),
    recordFailed: () => recordFailed.inc(),
    paused: (value) => paused.set(value ? 1 : 0),
  }
}
