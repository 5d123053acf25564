/**
 * Webhook signatures: contract v1's `Parley-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
 * and the Standard Webhooks headers (standardwebhooks.com): `webhook-id`, `webhook-timestamp`,
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`.
 *
 * The Standard Webhooks key is the base64 part of a `whsec_…` secret, or else the UTF-8 bytes of
 * the secret (receivers pass `whsec_` + base64 of those bytes to the `standardwebhooks` package).
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto'

/** How old a signed timestamp may be before receivers reject it (contract v1: 5 minutes). */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60

const WHSEC_PREFIX = 'whsec_'

/** The HMAC key of the Standard Webhooks signature. */
export function standardWebhooksKey(secret: string): Buffer {
  if (secret.startsWith(WHSEC_PREFIX)) return Buffer.from(secret.slice(WHSEC_PREFIX.length), 'base64')
  return Buffer.from(secret, 'utf8')
}

/** Both HMAC keys of a secret, made once (a key made from a string per request costs more than the HMAC of a small body). */
export interface WebhookKeys {
  parley: KeyObject
  standard: KeyObject
}

export function webhookKeys(secret: string): WebhookKeys {
  return { parley: createSecretKey(Buffer.from(secret, 'utf8')), standard: createSecretKey(standardWebhooksKey(secret)) }
}

/** `Parley-Signature` for a body sent at `t` (unix seconds). */
export function parleySignature(secret: string | KeyObject, t: number, body: string): string {
  const hex = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')
  return `t=${t},v1=${hex}`
}

/** `webhook-signature` for an event id, a timestamp (unix seconds) and a body (`secret`: the secret, or its Standard Webhooks key). */
export function standardSignature(secret: string | KeyObject, id: string, timestamp: number, body: string): string {
  const key = typeof secret === 'string' ? standardWebhooksKey(secret) : secret
  const base64 = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')
  return `v1,${base64}`
}

/** Every signature header of one attempt. */
export function webhookHeaders(secret: string | WebhookKeys, id: string, timestamp: number, body: string): Record<string, string> {
  const keys = typeof secret === 'string' ? webhookKeys(secret) : secret
  return {
    'content-type': 'application/json',
    'parley-signature': parleySignature(keys.parley, timestamp, body),
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': standardSignature(keys.standard, id, timestamp, body),
  }
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'malformed' | 'mismatch' | 'too_old' }

/** Checks a `Parley-Signature` header the way a receiver should (also what the tests use). */
export function verifyParleySignature(secret: string, header: string, body: string, nowSeconds: number): VerifyResult {
  const parts = new Map(header.split(',').map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)] as const))
  const t = Number(parts.get('t'))
  const v1 = parts.get('v1')
  if (!Number.isInteger(t) || !v1) return { ok: false, reason: 'malformed' }
  const expected = Buffer.from(parleySignature(secret, t, body).split('v1=')[1] ?? '', 'hex')
  const given = Buffer.from(v1, 'hex')
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'mismatch' }
  if (Math.abs(nowSeconds - t) > WEBHOOK_TOLERANCE_SECONDS) return { ok: false, reason: 'too_old' }
  return { ok: true }
}
