/**
 * APNs with token auth (.p8) through @parse/node-apn: one Provider for the process (each holds an
 * HTTP/2 session and ping timers), shut down on close. Its own retries are off
 * (`connectionRetryLimit: 0`): the outbox owns retries and backoff. node-apn regenerates the
 * provider token itself (every ~55 min, and on 403 ExpiredProviderToken).
 *
 * Headers and payload (contract additions, "Devices"): alert with title and body, `thread-id`,
 * `apns-collapse-id`, badge = unseen count, `apns-push-type: alert`, priority 10 for urgent
 * messages and 5 otherwise, plus Parley's ids and link as custom keys. 410 Unregistered, 400
 * BadDeviceToken and DeviceTokenNotForTopic remove the device; 429, 5xx, 403 ExpiredProviderToken
 * and transport errors retry; other refusals fail for good.
 */
import { readFileSync } from 'node:fs'
import apn from '@parse/node-apn'
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
/** How long one request may take before node-apn gives up on it (ms). */
const APNS_REQUEST_TIMEOUT_MS = 10_000

/** Reads the .p8 file named by APNS_KEY_FILE; a one-line message when it is not a private key. */
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

export function apnsOutcome(failure: { status?: number | undefined; response?: { reason: string } | undefined; error?: Error | undefined }): SendOutcome {
  if (failure.error) return { status: 'retry', reason: `transport: ${failure.error.message}` }
  const status = failure.status ?? 0
  const reason = failure.response?.reason ?? `HTTP ${status}`
  if (status === 410 || GONE_REASONS.has(reason)) return { status: 'gone', reason }
  if (status === 429 || status >= 500 || reason === 'ExpiredProviderToken') return { status: 'retry', reason }
  return { status: 'failed', reason }
}

export function createApnsSender(options: ApnsOptions): PushSender {
  const provider = new apn.Provider({
    token: { key: options.key, keyId: options.keyId, teamId: options.teamId },
    production: options.production,
    ...(options.host === undefined ? {} : { address: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    connectionRetryLimit: 0,
    requestTimeout: APNS_REQUEST_TIMEOUT_MS,
  })
  return {
    platform: 'apns',
    async send(device: DeviceRecord, message: PushMessage): Promise<SendOutcome> {
      const note = new apn.Notification()
      note.topic = options.topic
      note.pushType = 'alert'
      note.priority = message.urgency === 'high' ? 10 : 5
      note.alert = { title: message.title, body: message.body }
      note.badge = message.badge
      note.collapseId = message.collapseId
      if (message.threadId !== null) note.threadId = message.threadId
      note.payload = { notificationId: message.notificationId, kind: message.kind, subjectId: message.subjectId, ...(message.url ? { url: message.url } : {}) }
      const result = await provider.send(note, device.token)
      const failure = result.failed[0]
      return failure ? apnsOutcome(failure) : { status: 'sent' }
    },
    async close() {
      await provider.shutdown()
    },
  }
}
