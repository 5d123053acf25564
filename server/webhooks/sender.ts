/**
 * What the webhook loop hands over to be sent: an event's id, the signing time and its body. A
 * sender signs (core/webhooks/signing.ts) and POSTs it (post.ts). The loop's default sender does
 * this on a worker thread (threaded-sender.ts), so that signing, HTTP framing and the receiver's
 * answers never take turns from the sockets on the main thread; `createInlineSender` does the same
 * on the calling thread (the worker runs one, and `webhooks.thread: false` uses one directly).
 */
import { webhookHeaders, webhookKeys } from '../../core/webhooks/signing.ts'
import { createPoster, type PostAnswer } from './post.ts'

export interface WebhookJob {
  /** The event id (`webhook-id`). */
  id: string
  /** Signing time, unix seconds. */
  timestamp: number
  body: string
}

export interface WebhookSender {
  /** Gets ready to send (the threaded sender starts its worker, so the first event does not wait for it). */
  start(): void
  send(job: WebhookJob): Promise<PostAnswer>
  /** Aborts what is in flight: each pending `send` resolves with no answer (status null). */
  close(): void
}

/** The answer to a job sent to a closed sender, or aborted by its close. */
export const CLOSING: PostAnswer = { status: null, retryAfter: null, error: 'the server is closing' }

export interface SenderSettings {
  url: string
  secret: string
  timeoutMs: number
}

export function createInlineSender(settings: SenderSettings): WebhookSender {
  const poster = createPoster(settings.url, settings.timeoutMs)
  const keys = webhookKeys(settings.secret)
  let closed = false
  return {
    start: () => undefined,
    send: (job) => (closed ? Promise.resolve(CLOSING) : poster.post(webhookHeaders(keys, job.id, job.timestamp, job.body), job.body)),
    close() {
      closed = true
      poster.close()
    },
  }
}
