/**
 * Push configuration from the environment: APNs is on when its key file, key id, team id and
 * topic are all set, Web Push when the VAPID keys and subject are (some of a service's variables
 * without the others is a configuration error naming the missing one; bad VAPID keys too), FCM
 * when a service account file is named. Key and account files are read when the server starts.
 */
import { err, ok, type Result } from '../../protocol/index.ts'

export interface ApnsConfig {
  keyFile: string
  keyId: string
  teamId: string
  topic: string
  production: boolean
  host: string | undefined
  port: number | undefined
}

export interface WebPushConfig {
  publicKey: string
  privateKey: string
  subject: string
}

export interface FcmConfig {
  serviceAccountFile: string
  /** The send base URL (default Google's). */
  endpoint: string | undefined
}

export interface PushConfig {
  apns: ApnsConfig | undefined
  webPush: WebPushConfig | undefined
  fcm: FcmConfig | undefined
}

export interface PushVariables {
  APNS_KEY_FILE?: string | undefined
  APNS_KEY_ID?: string | undefined
  APNS_TEAM_ID?: string | undefined
  APNS_TOPIC?: string | undefined
  APNS_PRODUCTION?: boolean | undefined
  APNS_HOST?: string | undefined
  APNS_PORT?: number | undefined
  VAPID_PUBLIC_KEY?: string | undefined
  VAPID_PRIVATE_KEY?: string | undefined
  VAPID_SUBJECT?: string | undefined
  FCM_SERVICE_ACCOUNT_FILE?: string | undefined
  FCM_ENDPOINT?: string | undefined
}

const APNS_REQUIRED = ['APNS_KEY_FILE', 'APNS_KEY_ID', 'APNS_TEAM_ID', 'APNS_TOPIC'] as const
const VAPID_REQUIRED = ['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT'] as const

/** A one-line error when some of a service's variables are set and not all. */
function partly(e: PushVariables, service: string, names: readonly (keyof PushVariables)[]): string | null {
  const set = names.filter((name) => e[name] !== undefined)
  if (set.length === 0 || set.length === names.length) return null
  const missing = names.find((name) => e[name] === undefined)
  return `invalid ${missing}: ${service} needs ${names.join(', ')} (${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set)`
}

export function pushConfig(e: PushVariables, checkVapid: (config: WebPushConfig) => string | null): Result<PushConfig, string> {
  const incomplete = partly(e, 'APNs', APNS_REQUIRED) ?? partly(e, 'Web Push', VAPID_REQUIRED)
  if (incomplete) return err(incomplete)
  const webPush =
    e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY && e.VAPID_SUBJECT
      ? { publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY, subject: e.VAPID_SUBJECT }
      : undefined
  const vapidError = webPush ? checkVapid(webPush) : null
  if (vapidError) return err(vapidError)
  if (e.FCM_ENDPOINT && !e.FCM_SERVICE_ACCOUNT_FILE) return err('invalid FCM_ENDPOINT: set FCM_SERVICE_ACCOUNT_FILE too')
  const fcm = e.FCM_SERVICE_ACCOUNT_FILE ? { serviceAccountFile: e.FCM_SERVICE_ACCOUNT_FILE, endpoint: e.FCM_ENDPOINT } : undefined
  const apns =
    e.APNS_KEY_FILE && e.APNS_KEY_ID && e.APNS_TEAM_ID && e.APNS_TOPIC
      ? {
          keyFile: e.APNS_KEY_FILE,
          keyId: e.APNS_KEY_ID,
          teamId: e.APNS_TEAM_ID,
          topic: e.APNS_TOPIC,
          production: e.APNS_PRODUCTION ?? false,
          host: e.APNS_HOST,
          port: e.APNS_PORT,
        }
      : undefined
  return ok({ apns, webPush, fcm })
}
