/**
 * Push configuration from the environment: APNs is on when its key file, key id, team id and
 * topic are all set (one of them alone is a configuration error naming the missing variable).
 * The key file itself is read when the server starts (server/delivery/apns.ts).
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

export interface PushConfig {
  apns: ApnsConfig | undefined
}

export interface PushVariables {
  APNS_KEY_FILE?: string | undefined
  APNS_KEY_ID?: string | undefined
  APNS_TEAM_ID?: string | undefined
  APNS_TOPIC?: string | undefined
  APNS_PRODUCTION?: boolean | undefined
  APNS_HOST?: string | undefined
  APNS_PORT?: number | undefined
}

const APNS_REQUIRED = ['APNS_KEY_FILE', 'APNS_KEY_ID', 'APNS_TEAM_ID', 'APNS_TOPIC'] as const

export function pushConfig(e: PushVariables): Result<PushConfig, string> {
  const set = APNS_REQUIRED.filter((name) => e[name] !== undefined)
  if (set.length > 0 && set.length < APNS_REQUIRED.length) {
    const missing = APNS_REQUIRED.find((name) => e[name] === undefined)
    return err(`invalid ${missing}: APNs needs ${APNS_REQUIRED.join(', ')} (${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set)`)
  }
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
  return ok({ apns })
}
