/**
 * FCM HTTP v1 with jose and node:https (firebase-admin and google-auth-library hard-code Google's
 * hosts and ignore the service account's `token_uri`, so no local peer could stand in; node:https
 * rather than fetch, because a test CA needs an agent). A service account JSON gives the project,
 * the signing key and `token_uri`: an RS256 JWT-bearer assertion (scope `firebase.messaging`)
 * buys an access token, cached until a minute before it expires and fetched again once on a 401.
 * `FCM_ENDPOINT` overrides the send base URL.
 *
 * Errors from `error.details[].errorCode`: UNREGISTERED (or 404) and SENDER_ID_MISMATCH remove the
 * device; INVALID_ARGUMENT removes it only when the token is what is invalid (a payload error is
 * our bug: it fails, the device stays); QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL and 5xx retry after
 * Retry-After; THIRD_PARTY_AUTH_ERROR fails and logs an operator error.
 */
import { readFileSync } from 'node:fs'
import https from 'node:https'
import { importPKCS8, SignJWT } from 'jose'
import type { Logger } from 'pino'
import type { DeviceRecord } from '../../core/delivery/devices.ts'
import type { PushMessage, PushSender, SendOutcome } from '../../core/delivery/senders.ts'

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging'
/** Google's send base URL. */
export const FCM_DEFAULT_ENDPOINT = 'https://fcm.googleapis.com'
/** An access token is fetched again this long before it expires (ms). */
const TOKEN_MARGIN_MS = 60_000
/** How long one request may take (ms). */
const FCM_TIMEOUT_MS = 10_000

export interface ServiceAccount {
  project_id: string
  private_key_id: string
  private_key: string
  client_email: string
  token_uri: string
}

/** Reads FCM_SERVICE_ACCOUNT_FILE; a one-line error naming the variable when it is not a usable service account. */
export function readServiceAccount(file: string): ServiceAccount {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new Error(
      `invalid FCM_SERVICE_ACCOUNT_FILE: cannot read ${file} as JSON (${(error instanceof Error ? error.message : String(error)).split('\n')[0]})`,
      {
        cause: error,
      },
    )
  }
  const account = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>
  for (const field of ['project_id', 'private_key', 'client_email', 'token_uri']) {
    if (typeof account[field] !== 'string' || account[field] === '')
      throw new Error(`invalid FCM_SERVICE_ACCOUNT_FILE: ${file} is a service account without ${field}`)
  }
  return { private_key_id: '', ...account } as unknown as ServiceAccount
}

interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

function post(url: string, body: string, headers: Record<string, string>, agent: https.Agent): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent, timeout: FCM_TIMEOUT_MS },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => {
          let parsed: unknown = text
          try {
            parsed = JSON.parse(text)
          } catch {
            // not JSON: kept as text
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed })
        })
      },
    )
    request.on('timeout', () => request.destroy(new Error('timed out')))
    request.on('error', reject)
    request.end(body)
  })
}

function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const seconds = Number(Array.isArray(value) ? value[0] : value)
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined
}

/** The FCM error of a failed send: its status, `errorCode` and whether the token is what is invalid. */
function fcmError(body: unknown): { status: string; code: string | null; badToken: boolean; message: string } {
  const error = (typeof body === 'object' && body !== null && 'error' in body ? body.error : {}) as { status?: unknown; message?: unknown; details?: unknown }
  const details = Array.isArray(error.details) ? (error.details as Array<Record<string, unknown>>) : []
  const code = details.map((d) => d.errorCode).find((c): c is string => typeof c === 'string') ?? null
  const violations = details.flatMap((d) => (Array.isArray(d.fieldViolations) ? (d.fieldViolations as Array<Record<string, unknown>>) : []))
  const message = typeof error.message === 'string' ? error.message : ''
  const badToken = violations.some((v) => v.field === 'message.token') || /registration token/i.test(message)
  return { status: typeof error.status === 'string' ? error.status : '', code, badToken, message }
}

export function fcmOutcome(answer: HttpAnswer, logger?: Logger): SendOutcome {
  const { status, code, badToken, message } = fcmError(answer.body)
  const reason = `${answer.status} ${code ?? status}${message ? `: ${message.slice(0, 200)}` : ''}`
  const kind = code ?? status
  if (kind === 'UNREGISTERED' || kind === 'SENDER_ID_MISMATCH' || answer.status === 404) return { status: 'gone', reason }
  if (kind === 'INVALID_ARGUMENT') return badToken ? { status: 'gone', reason } : { status: 'failed', reason }
  if (kind === 'THIRD_PARTY_AUTH_ERROR') {
    logger?.error({ reason }, 'FCM refused the APNs or Web Push credentials of the Firebase project: check its configuration')
    return { status: 'failed', reason }
  }
  if (kind === 'QUOTA_EXCEEDED' || kind === 'UNAVAILABLE' || kind === 'INTERNAL' || answer.status === 429 || answer.status >= 500) {
    return { status: 'retry', reason, retryAfterMs: retryAfterMs(answer.headers['retry-after']) }
  }
  return { status: 'failed', reason }
}

export interface FcmOptions {
  account: ServiceAccount
  endpoint?: string | undefined
  ca?: string[] | undefined
  logger?: Logger | undefined
  now?: () => number
}

export function createFcmSender(options: FcmOptions): PushSender {
  const { account } = options
  const now = options.now ?? Date.now
  const agent = new https.Agent({ keepAlive: true, ...(options.ca === undefined ? {} : { ca: options.ca }) })
  const sendUrl = `${(options.endpoint ?? FCM_DEFAULT_ENDPOINT).replace(/\/$/, '')}/v1/projects/${encodeURIComponent(account.project_id)}/messages:send`
  let cached: { token: string; expiresAt: number } | null = null
  let fetching: Promise<string> | null = null

  const fetchToken = async (): Promise<string> => {
    const key = await importPKCS8(account.private_key, 'RS256')
    const iat = Math.floor(now() / 1000)
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(account.private_key_id ? { kid: account.private_key_id } : {}) })
      .setIssuer(account.client_email)
      .setAudience(account.token_uri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(key)
    const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString()
    const answer = await post(account.token_uri, form, { 'content-type': 'application/x-www-form-urlencoded' }, agent)
    const body = answer.body as { access_token?: unknown; expires_in?: unknown }
    if (answer.status !== 200 || typeof body.access_token !== 'string') throw new Error(`the FCM token endpoint answered ${answer.status}`)
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 3600
    cached = { token: body.access_token, expiresAt: now() + expiresIn * 1000 }
    return body.access_token
  }

  const accessToken = async (fresh: boolean): Promise<string> => {
    if (!fresh && cached && cached.expiresAt - TOKEN_MARGIN_MS > now()) return cached.token
    fetching ??= fetchToken().finally(() => {
      fetching = null
    })
    return fetching
  }

  return {
    platform: 'fcm',
    async send(device: DeviceRecord, message: PushMessage): Promise<SendOutcome> {
      const data: Record<string, string> = {
        notificationId: message.notificationId,
        kind: message.kind,
        subjectId: message.subjectId,
        badge: String(message.badge),
      }
      if (message.threadId !== null) data.threadId = message.threadId
      if (message.url) data.url = message.url
      const body = JSON.stringify({
        message: {
          token: device.token,
          notification: { title: message.title, body: message.body },
          data,
          android: { collapse_key: message.collapseId, priority: message.urgency === 'high' ? 'HIGH' : 'NORMAL', notification: { tag: message.collapseId } },
        },
      })
      try {
        for (const fresh of [false, true]) {
          const answer = await post(sendUrl, body, { 'content-type': 'application/json', authorization: `Bearer ${await accessToken(fresh)}` }, agent)
          if (answer.status === 200) return { status: 'sent' }
          // An expired or revoked access token: fetch one again, once.
          if (answer.status === 401 && !fresh) continue
          return fcmOutcome(answer, options.logger)
        }
        return { status: 'retry', reason: 'the access token was refused twice' }
      } catch (error) {
        return { status: 'retry', reason: `transport: ${error instanceof Error ? error.message : String(error)}` }
      }
    },
    async close() {
      agent.destroy()
    },
  }
}
