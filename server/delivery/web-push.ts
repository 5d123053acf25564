/**
 * Web Push with `web-push` 3.6: VAPID (`VAPID_PUBLIC_KEY`, `VAPID_PRIVATE_KEY`, `VAPID_SUBJECT`),
 * the `aes128gcm` encoding (RFC 8291), TTL and urgency from the message, and the collapse id as
 * `Topic` (a newer push replaces an undelivered one). 404 and 410 remove the subscription; 429 and
 * 5xx retry after `Retry-After`; other refusals fail for good. It always speaks HTTPS: a test
 * service's certificate is trusted through an agent with its CA (or NODE_EXTRA_CA_CERTS).
 */
import https from 'node:https'
import webpush from 'web-push'
import { subscriptionOf, type DeviceRecord } from '../../core/delivery/devices.ts'
import type { PushMessage, PushSender, SendOutcome } from '../../core/delivery/senders.ts'

export interface WebPushOptions {
  publicKey: string
  privateKey: string
  /** `mailto:` or `https:` contact of the sender. */
  subject: string
  /** Extra trusted CA certificates (PEM). */
  ca?: string[] | undefined
}

/**
 * How long a push service keeps an undelivered message (seconds), by urgency: a mention or an
 * urgent notification for a day, anything else for 4 hours (past that the inbox, which holds every
 * notification, is where the user finds it; a stale nudge only adds noise).
 */
export const WEB_PUSH_TTL_SECONDS = { high: 86_400, normal: 4 * 3_600 } as const
/** How long one request may take (ms). */
const WEB_PUSH_TIMEOUT_MS = 10_000

/** Checks the VAPID keys and subject now (a bad key is a configuration error at start): the message names the variable. */
export function checkVapid(options: WebPushOptions): string | null {
  try {
    webpush.getVapidHeaders('https://push.example.com', options.subject, options.publicKey, options.privateKey, 'aes128gcm')
    return null
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error)
    const variable = /subject/i.test(text) ? 'VAPID_SUBJECT' : /private/i.test(text) ? 'VAPID_PRIVATE_KEY' : 'VAPID_PUBLIC_KEY'
    return `invalid ${variable}: ${text}`
  }
}

function retryAfterMs(value: unknown): number | undefined {
  const text = typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined
  if (text === undefined) return undefined
  const seconds = Number(text)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

export function webPushOutcome(error: unknown): SendOutcome {
  if (!(error instanceof webpush.WebPushError)) return { status: 'retry', reason: `transport: ${error instanceof Error ? error.message : String(error)}` }
  const status = error.statusCode
  const reason = `HTTP ${status}${error.body ? `: ${error.body.slice(0, 200)}` : ''}`
  if (status === 404 || status === 410) return { status: 'gone', reason }
  if (status === 429 || status >= 500) return { status: 'retry', reason, retryAfterMs: retryAfterMs(error.headers['retry-after']) }
  return { status: 'failed', reason }
}

export function createWebPushSender(options: WebPushOptions): PushSender {
  const agent = new https.Agent({ keepAlive: true, ...(options.ca === undefined ? {} : { ca: options.ca }) })
  const vapidDetails = { subject: options.subject, publicKey: options.publicKey, privateKey: options.privateKey }
  return {
    platform: 'webpush',
    async send(device: DeviceRecord, message: PushMessage): Promise<SendOutcome> {
      const payload = JSON.stringify({
        title: message.title,
        body: message.body,
        notificationId: message.notificationId,
        kind: message.kind,
        subjectId: message.subjectId,
        threadId: message.threadId,
        badge: message.badge,
        ...(message.url ? { url: message.url } : {}),
      })
      try {
        await webpush.sendNotification(subscriptionOf(device), payload, {
          vapidDetails,
          TTL: WEB_PUSH_TTL_SECONDS[message.urgency],
          urgency: message.urgency,
          topic: message.collapseId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 32),
          contentEncoding: 'aes128gcm',
          timeout: WEB_PUSH_TIMEOUT_MS,
          agent,
        })
        return { status: 'sent' }
      } catch (error) {
        return webPushOutcome(error)
      }
    },
    async close() {
      agent.destroy()
    },
  }
}
