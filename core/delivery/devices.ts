/**
 * Push devices (contract additions, "Devices"): a user's APNs and FCM tokens and Web Push
 * subscriptions. A device's id is derived from its user, platform and token (a Web Push
 * subscription: its endpoint), so registering the same token again gives the same id; a user
 * keeps at most {@link MAX_DEVICES_PER_USER} (the oldest is replaced). Tokens are never answered.
 */
import { createHash } from 'node:crypto'

export const DEVICE_PLATFORMS = ['apns', 'fcm', 'webpush'] as const
export type DevicePlatform = (typeof DEVICE_PLATFORMS)[number]

/** Devices one user may have; registering another replaces the oldest. */
export const MAX_DEVICES_PER_USER = 20

/** Longest APNs or FCM token, in characters (contract additions: up to 4 KB). */
export const MAX_DEVICE_TOKEN_LENGTH = 4096

/** A Web Push subscription as the browser's PushManager gives it (keys in base64url). */
export interface WebPushSubscription {
  endpoint: string
  keys: { p256dh: string; auth: string }
}

export interface DeviceRecord {
  id: string
  userId: string
  platform: DevicePlatform
  /** The APNs or FCM token, or the Web Push subscription as JSON. */
  token: string
  createdAt: number
  /** When a push last went to it. */
  lastSentAt: number | null
}

/** What identifies a device of a platform: the token, or a subscription's endpoint. */
function identity(platform: DevicePlatform, token: string): string {
  if (platform !== 'webpush') return token
  const parsed: unknown = JSON.parse(token)
  return typeof parsed === 'object' && parsed !== null && 'endpoint' in parsed && typeof parsed.endpoint === 'string' ? parsed.endpoint : token
}

/** The device's id: the same user, platform and token (or endpoint) always give the same one. */
export function deviceId(userId: string, platform: DevicePlatform, token: string): string {
  const hash = createHash('sha256')
    .update([userId, platform, identity(platform, token)].join('\u0000'))
    .digest('base64url')
  return `d_${hash.slice(0, 16)}`
}

/** The subscription stored in a Web Push device's token. */
export function subscriptionOf(device: Pick<DeviceRecord, 'token'>): WebPushSubscription {
  return JSON.parse(device.token) as WebPushSubscription
}
