/**
 * Configuration from the environment (the contract's table), validated with zod.
 * `loadConfig` never throws for bad input: it returns a one-line message naming the variable.
 */
import path from 'node:path'
import { z } from 'zod'
import { err, ok, type Result } from '../protocol/index.ts'
import type { JwtKeyConfig } from '../core/auth/verifier.ts'
import { UPDATE_BURST, UPDATES_PER_SECOND } from './flow/limits.ts'
import { parseTrustedProxies } from './http/client-address.ts'
import { CONNECTIONS_PER_ADDRESS } from './http/connection-limits.ts'
import { FAULT_POINTS, type FaultPoint } from '../core/notifications/faults.ts'
import { DEFAULT_DIGEST_SECONDS, MAX_DIGEST_SECONDS } from '../core/notifications/preferences.ts'
import { NOTIFICATION_MAX_AGE_DAYS } from '../core/notifications/expiry.ts'
import { checkAppUrl } from '../core/notifications/app-url.ts'
import { pushConfig, type PushConfig } from './delivery/push-config.ts'
import { checkVapid } from './delivery/web-push.ts'
import { FEED_FAULT_POINTS, isFeedFaultPoint, type FeedFaultPoint } from '../core/feeds/faults.ts'
import { isStorageFaultPoint, STORAGE_FAULT_POINTS, type StorageFaultPoint } from './storage/sqlite/faults.ts'
import { DEFAULT_FEED_LIMIT } from '../core/feeds/writer.ts'
import { DEFAULT_REPORT_THRESHOLD, MAX_REPORT_THRESHOLD } from './moderation/reports.ts'
import { parseCorsOrigins } from './http/cors.ts'
import { emailConfig, type EmailConfig } from './email/config.ts'

/** The default listen port of the contract. */
export const DEFAULT_PORT = 1234
/** Most items `PARLEY_FEED_LIMIT` may keep in a feed document. */
export const MAX_FEED_LIMIT = 10_000

/** Where SQLite and the dev secret live unless `PARLEY_DATA_DIR` says otherwise. */
export const DEFAULT_DATA_DIR = './data'

const optionalString = z.string().trim().min(1).optional()
const booleanString = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')
const portString = z.coerce.number().int().min(0).max(65535)

const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  PORT: portString.optional(),
  HOST: optionalString,
  PARLEY_DATA_DIR: optionalString,
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  PARLEY_JWT_SECRET: z.string().min(32, 'must be at least 32 characters (256 bits for HS256)').optional(),
  PARLEY_JWT_PUBLIC_KEY: z.string().includes('-----BEGIN PUBLIC KEY-----', { message: 'must be a PEM public key' }).optional(),
  PARLEY_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  PARLEY_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  PARLEY_METRICS_TOKEN: optionalString,
  APNS_KEY_FILE: optionalString,
  APNS_KEY_ID: optionalString,
  APNS_TEAM_ID: optionalString,
  APNS_TOPIC: optionalString,
  APNS_PRODUCTION: booleanString.optional(),
  APNS_HOST: optionalString,
  APNS_PORT: portString.optional(),
  FCM_SERVICE_ACCOUNT_FILE: optionalString,
  FCM_ENDPOINT: z.url().optional(),
  VAPID_PUBLIC_KEY: optionalString,
  VAPID_PRIVATE_KEY: optionalString,
  VAPID_SUBJECT: optionalString,
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
    .optional(),
  EMAIL_FROM: optionalString,
  PARLEY_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  PARLEY_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  PARLEY_WEBHOOK_SECRET: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  PARLEY_NOTIFICATION_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  PARLEY_DIGEST_SECONDS: z.coerce.number().int().min(0).max(MAX_DIGEST_SECONDS).optional(),
  PARLEY_APP_URL: z
    .string()
    .check((ctx) => {
      const checked = checkAppUrl(ctx.value)
      if (!checked.ok) ctx.issues.push({ code: 'custom', message: checked.error, input: ctx.value })
    })
    .optional(),
  PARLEY_UPDATES_PER_SECOND: z.coerce.number().positive().max(1_000_000).optional(),
  PARLEY_UPDATE_BURST: z.coerce.number().int().positive().max(1_000_000).optional(),
  PARLEY_FAULT: z.enum([...FAULT_POINTS, ...FEED_FAULT_POINTS, ...STORAGE_FAULT_POINTS]).optional(),
  PARLEY_FEED_LIMIT: z.coerce.number().int().min(1).max(MAX_FEED_LIMIT).optional(),
  PARLEY_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).max(1_000_000).optional(),
  PARLEY_TRUSTED_PROXIES: z.string().optional(),
  PARLEY_REPORT_THRESHOLD: z.coerce.number().int().min(1).max(MAX_REPORT_THRESHOLD).optional(),
  PARLEY_CORS_ORIGINS: z
    .string()
    .check((ctx) => {
      const checked = parseCorsOrigins(ctx.value)
      if (!checked.ok) ctx.issues.push({ code: 'custom', message: checked.error, input: ctx.value })
    })
    .optional(),
})

/** Every environment variable the server reads (the docs test checks each is documented). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape)

export type { JwtKeyConfig }

export interface ParleyConfig {
  production: boolean
  port: number
  host: string
  dataDir: string
  databaseUrl: string | undefined
  redisUrl: string | undefined
  jwt: JwtKeyConfig
  apiKey: string | undefined
  metricsToken: string | undefined
  webhook: { url: string; secret: string | undefined } | undefined
  logLevel: string
  /** Document updates per second a socket or user may send, and the burst above it (the write guard). */
  updateRate: { perSecond: number; burst: number }
  /** Concurrent WebSocket connections one client address may hold; 0 = no per-address limit (nor upgrade rate). */
  connectionsPerAddress: number
  /** Proxies (IP addresses, CIDR ranges) whose `X-Forwarded-For` names the client (server/http/client-address.ts). */
  trustedProxies: string[]
  /** The digest window for push and email of users who did not choose one (`PARLEY_DIGEST_SECONDS`). */
  digestSeconds: number
  /** Notifications older than this many days (by their latest activity) expire (`PARLEY_NOTIFICATION_MAX_AGE_DAYS`). */
  notificationMaxAgeDays: number
  /** The link template of each notification (`PARLEY_APP_URL`): `{subjectId}`, `{threadId}`, `{commentId}`, `{notificationId}`. */
  appUrl?: string | undefined
  /** Push services configured (server/delivery/push-config.ts). */
  push: PushConfig
  /** Email over SMTP when `SMTP_URL` and `EMAIL_FROM` are set (server/email/config.ts). */
  email?: EmailConfig | undefined
  /** Where clients reach this server (`PARLEY_PUBLIC_URL`), for links back to it such as one-click unsubscribe; default its listening URL. */
  publicUrl?: string | undefined
  /** Distinct reporters after which a comment's moderators are notified (`PARLEY_REPORT_THRESHOLD`, default 3). */
  reportThreshold?: number | undefined
  /** Origins allowed to call the user REST routes from a browser (`PARLEY_CORS_ORIGINS`); empty: none. */
  corsOrigins?: readonly string[] | undefined
  /** Test-only: the process kills itself at this point (core/notifications/faults.ts). */
  faultPoint?: FaultPoint | undefined
  /** Test-only: the process kills itself at this point of the feed fan-out (core/feeds/faults.ts). */
  feedFaultPoint?: FeedFaultPoint | undefined
  /** Test-only: the process kills itself at this point of SQLite's group commit (server/storage/sqlite/faults.ts). */
  storageFaultPoint?: StorageFaultPoint | undefined
  /** Items a feed document keeps (`PARLEY_FEED_LIMIT`); older ones page over REST. */
  feedLimit: number
}

function unwrapOrigins(value: string): string[] {
  const parsed = parseCorsOrigins(value)
  return parsed.ok ? parsed.value : []
}

/** The configuration, or a one-line message naming the variable that is wrong. */
export type ConfigResult = Result<ParleyConfig, string>

/** Builds the configuration from an environment; the first problem found is the message. */
export function loadConfig(env: Record<string, string | undefined>): ConfigResult {
  // An empty variable counts as unset, as shells and .env files commonly produce them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = envSchema.safeParse(present)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const variable = issue?.path.join('.') ?? 'environment'
    return err(`invalid ${variable}: ${issue?.message ?? 'invalid value'}`)
  }
  const e = parsed.data
  const keys = [e.PARLEY_JWT_SECRET, e.PARLEY_JWT_PUBLIC_KEY, e.PARLEY_JWKS_URL].filter((k) => k !== undefined)
  if (keys.length > 1) {
    return err('invalid PARLEY_JWT_SECRET: set only one of PARLEY_JWT_SECRET, PARLEY_JWT_PUBLIC_KEY, PARLEY_JWKS_URL')
  }
  const production = e.NODE_ENV === 'production'
  const jwt: JwtKeyConfig = e.PARLEY_JWT_SECRET
    ? { kind: 'secret', secret: e.PARLEY_JWT_SECRET }
    : e.PARLEY_JWT_PUBLIC_KEY
      ? { kind: 'publicKey', pem: e.PARLEY_JWT_PUBLIC_KEY }
      : e.PARLEY_JWKS_URL
        ? { kind: 'jwks', url: e.PARLEY_JWKS_URL }
        : { kind: 'dev' }
  if (production && jwt.kind === 'dev') {
    return err('NODE_ENV=production needs a JWT key: set PARLEY_JWT_SECRET, PARLEY_JWT_PUBLIC_KEY or PARLEY_JWKS_URL')
  }
  if (e.REDIS_URL && !e.DATABASE_URL) {
    // Each instance would keep only what its own clients wrote: storage must be shared.
    return err('invalid REDIS_URL: several instances need shared storage; set DATABASE_URL too')
  }
  if (production && e.PARLEY_FAULT) {
    return err('invalid PARLEY_FAULT: fault injection is for tests and is refused when NODE_ENV=production')
  }
  if (isStorageFaultPoint(e.PARLEY_FAULT) && e.DATABASE_URL) {
    return err(`invalid PARLEY_FAULT: ${e.PARLEY_FAULT} is a point of SQLite's group commit; unset DATABASE_URL`)
  }
  const push = pushConfig(e, checkVapid)
  if (!push.ok) return push
  const email = emailConfig(e)
  if (!email.ok) return email
  if (email.value && jwt.kind !== 'dev' && jwt.kind !== 'secret' && !e.PARLEY_API_KEY) {
    // Unsubscribe links are signed with a key every instance derives from a shared secret (server/email/key.ts).
    return err('invalid SMTP_URL: email needs PARLEY_API_KEY (it sets users’ addresses and keys the unsubscribe links)')
  }
  if (e.PARLEY_WEBHOOK_URL && !e.PARLEY_WEBHOOK_SECRET) {
    return err('invalid PARLEY_WEBHOOK_SECRET: required when PARLEY_WEBHOOK_URL is set')
  }
  const proxies = parseTrustedProxies(e.PARLEY_TRUSTED_PROXIES ?? '')
  if (!proxies.ok) return err(`invalid PARLEY_TRUSTED_PROXIES: ${proxies.error}`)
  return ok({
    production,
    port: e.PORT ?? DEFAULT_PORT,
    host: e.HOST ?? (jwt.kind === 'dev' ? '127.0.0.1' : '0.0.0.0'),
    dataDir: path.resolve(e.PARLEY_DATA_DIR ?? DEFAULT_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    jwt,
    apiKey: e.PARLEY_API_KEY,
    metricsToken: e.PARLEY_METRICS_TOKEN,
    webhook: e.PARLEY_WEBHOOK_URL ? { url: e.PARLEY_WEBHOOK_URL, secret: e.PARLEY_WEBHOOK_SECRET } : undefined,
    logLevel: e.LOG_LEVEL ?? 'info',
    updateRate: {
      perSecond: e.PARLEY_UPDATES_PER_SECOND ?? UPDATES_PER_SECOND,
      burst: e.PARLEY_UPDATE_BURST ?? UPDATE_BURST,
    },
    connectionsPerAddress: e.PARLEY_CONNECTIONS_PER_ADDRESS ?? CONNECTIONS_PER_ADDRESS,
    trustedProxies: proxies.value,
    digestSeconds: e.PARLEY_DIGEST_SECONDS ?? DEFAULT_DIGEST_SECONDS,
    notificationMaxAgeDays: e.PARLEY_NOTIFICATION_MAX_AGE_DAYS ?? NOTIFICATION_MAX_AGE_DAYS,
    appUrl: e.PARLEY_APP_URL,
    push: push.value,
    email: email.value,
    publicUrl: e.PARLEY_PUBLIC_URL?.replace(/\/+$/, ''),
    faultPoint: isFeedFaultPoint(e.PARLEY_FAULT) || isStorageFaultPoint(e.PARLEY_FAULT) ? undefined : e.PARLEY_FAULT,
    feedFaultPoint: isFeedFaultPoint(e.PARLEY_FAULT) ? e.PARLEY_FAULT : undefined,
    storageFaultPoint: isStorageFaultPoint(e.PARLEY_FAULT) ? e.PARLEY_FAULT : undefined,
    feedLimit: e.PARLEY_FEED_LIMIT ?? DEFAULT_FEED_LIMIT,
    reportThreshold: e.PARLEY_REPORT_THRESHOLD ?? DEFAULT_REPORT_THRESHOLD,
    corsOrigins: e.PARLEY_CORS_ORIGINS === undefined ? [] : unwrapOrigins(e.PARLEY_CORS_ORIGINS),
  })
}
