/**
 * APNs with token auth (.p8) over node:http2, signed with jose. The product was specified with
 * node-apn, and @parse/node-apn 8 was tried first: on a 500 it closes and destroys its HTTP/2
 * session, which fails every request in flight on it, including ones Apple had already accepted,
 * so concurrent sends turned one 500 into duplicates (measured with bench/push.ts: 110 repeated
 * successful pushes out of 600 at 20% failures); it also reads `Retry-After` under the wrong
 * header case. Here one session per process is kept and reconnected when it closes, each request
 * stands alone, `Retry-After` is honoured, and the outbox owns retries.
 *
 * The provider token (ES256, `kid` = key id, `iss` = team id, `iat`) is reused for 50 minutes and
 * made again on 403 ExpiredProviderToken, at most once per 20 minutes as Apple asks. Headers and
 * payload (contract additions, "Devices"): alert with title and body, `thread-id`,
 * `apns-collapse-id`, badge = unseen count, `apns-push-type: alert`, priority 10 for urgent
 * messages and 5 otherwise, plus Parley's ids and link as custom keys. 410 Unregistered, 400
 * BadDeviceToken and DeviceTokenNotForTopic remove the device; 429, 5xx, 403
 * ExpiredProviderToken and transport errors retry; other refusals fail for good.
 */
import { readFileSync } from 'node:fs'
import http2 from 'node:http2'
import { importPKCS8, SignJWT, type CryptoKey } from 'jose'
import type { DeviceRecord } from '../../core/delivery/devices.ts'
import type { PushMessage, PushSender, SendOutcome } from '../../core/delivery/senders.ts'

export interface ApnsOptions {
  /** The .p8 key (PEM), its key id and team id. */
  key: string
  keyId: string
  teamId: string
  /** The app's bundle id (`apns-topic`). */
  topic: string
  production: boolean
  /** Host and port override (tests: a local peer). */
  host?: string | undefined
  port?: number | undefined
  /** Extra trusted CA certificates (PEM); NODE_EXTRA_CA_CERTS works too. */
  ca?: string[] | undefined
}

/** APNs reasons that mean the token is dead. */
const GONE_REASONS = new Set(['BadDeviceToken', 'DeviceTokenNotForTopic', 'Unregistered', 'ExpiredToken'])
/** How long one request may take (ms). */
const APNS_REQUEST_TIMEOUT_MS = 10_000
/** A provider token is reused this long (Apple accepts up to an hour). */
const PROVIDER_TOKEN_TTL_MS = 50 * 60_000
/** Apple refuses (TooManyProviderTokenUpdates) new provider tokens more often than this. */
const PROVIDER_TOKEN_MIN_AGE_MS = 20 * 60_000
const HOSTS = { production: 'api.push.apple.com', development: 'api.sandbox.push.apple.com' }

/** Reads the .p8 file named by APNS_KEY_FILE; a one-line message naming the variable when it is not a private key. */
export function readApnsKey(file: string): string {
  let pem: string
  try {
    pem = readFileSync(file, 'utf8')
  } catch (error) {
    throw new Error(`invalid APNS_KEY_FILE: cannot read ${file} (${error instanceof Error && 'code' in error ? String(error.code) : String(error)})`, {
      cause: error,
    })
  }
  if (!/-----BEGIN (EC )?PRIVATE KEY-----/.test(pem)) throw new Error(`invalid APNS_KEY_FILE: ${file} holds no PEM private key (.p8)`)
  return pem
}

/** The outcome of an answer from APNs (status and `reason`), or of a transport error. */
export function apnsOutcome(answer: { status: number; reason?: string | undefined; retryAfterMs?: number | undefined } | { error: Error }): SendOutcome {
  if ('error' in answer) return { status: 'retry', reason: `transport: ${answer.error.message}` }
  const reason = answer.reason ?? `HTTP ${answer.status}`
  if (answer.status === 410 || GONE_REASONS.has(reason)) return { status: 'gone', reason }
  if (answer.status === 429 || answer.status >= 500 || reason === 'ExpiredProviderToken') return { status: 'retry', reason, retryAfterMs: answer.retryAfterMs }
  return { status: 'failed', reason }
}

function payloadOf(message: PushMessage): string {
  const aps: Record<string, unknown> = { alert: { title: message.title, body: message.body }, badge: message.badge }
  if (message.threadId !== null) aps['thread-id'] = message.threadId
  return JSON.stringify({
    aps,
    notificationId: message.notificationId,
    kind: message.kind,
    subjectId: message.subjectId,
    ...(message.url ? { url: message.url } : {}),
  })
}

export function createApnsSender(options: ApnsOptions): PushSender {
  const origin = `https://${options.host ?? (options.production ? HOSTS.production : HOSTS.development)}:${options.port ?? 443}`
  let session: http2.ClientHttp2Session | null = null
  let key: Promise<CryptoKey> | null = null
  let token: { jwt: string; at: number } | null = null
  let closed = false

  const connect = (): http2.ClientHttp2Session => {
    if (session && !session.closed && !session.destroyed) return session
    const fresh = http2.connect(origin, options.ca ? { ca: options.ca } : {})
    fresh.on('error', () => undefined) // requests in flight fail on their own; the next send reconnects
    fresh.on('close', () => {
      if (session === fresh) session = null
    })
    fresh.unref()
    session = fresh
    return fresh
  }

  const providerToken = async (renew: boolean): Promise<string> => {
    const now = Date.now()
    if (token && (renew ? now - token.at < PROVIDER_TOKEN_MIN_AGE_MS : now - token.at < PROVIDER_TOKEN_TTL_MS)) return token.jwt
    key ??= importPKCS8(options.key, 'ES256')
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: options.keyId })
      .setIssuer(options.teamId)
      .setIssuedAt(Math.floor(now / 1000))
      .sign(await key)
    token = { jwt, at: now }
    return jwt
  }

  const request = (headers: http2.OutgoingHttpHeaders, body: string) =>
    new Promise<{ status: number; reason?: string; retryAfterMs?: number }>((resolve, reject) => {
      const stream = connect().request(headers)
      let status = 0
      let retryAfter: string | undefined
      let text = ''
      stream.setEncoding('utf8')
      stream.setTimeout(APNS_REQUEST_TIMEOUT_MS, () => stream.close(http2.constants.NGHTTP2_CANCEL))
      stream.on('response', (h) => {
        status = Number(h[':status'] ?? 0)
        retryAfter = typeof h['retry-after'] === 'string' ? h['retry-after'] : undefined
      })
      stream.on('data', (chunk: string) => (text += chunk))
      stream.on('error', reject)
      stream.on('close', () => {
        if (status === 0) return reject(new Error('the stream closed without an answer'))
        let reason: string | undefined
        try {
          reason = text ? ((JSON.parse(text) as { reason?: string }).reason ?? undefined) : undefined
        } catch {
          reason = undefined
        }
        const seconds = Number(retryAfter)
        resolve({ status, ...(reason ? { reason } : {}), ...(retryAfter !== undefined && Number.isFinite(seconds) ? { retryAfterMs: seconds * 1000 } : {}) })
      })
      stream.end(body)
    })

  return {
    platform: 'apns',
    async send(device: DeviceRecord, message: PushMessage): Promise<SendOutcome> {
      if (closed) return { status: 'retry', reason: 'the APNs sender is closed' }
      const body = payloadOf(message)
      try {
        for (const renew of [false, true]) {
          const answer = await request(
            {
              ':method': 'POST',
              ':path': `/3/device/${device.token}`,
              authorization: `bearer ${await providerToken(renew)}`,
              'apns-topic': options.topic,
              'apns-push-type': 'alert',
              'apns-priority': message.urgency === 'high' ? '10' : '5',
              'apns-collapse-id': message.collapseId,
              'content-type': 'application/json',
            },
            body,
          )
          if (answer.status === 200) return { status: 'sent' }
          // Apple says the provider token expired: make another (not more often than it allows) and try once more.
          if (answer.status === 403 && answer.reason === 'ExpiredProviderToken' && !renew) continue
          return apnsOutcome(answer)
        }
        return { status: 'retry', reason: 'ExpiredProviderToken' }
      } catch (error) {
        return apnsOutcome({ error: error instanceof Error ? error : new Error(String(error)) })
      }
    },
    async close() {
      closed = true
      const current = session
      session = null
      if (current && !current.closed) await new Promise<void>((resolve) => current.close(() => resolve()))
    },
  }
}
