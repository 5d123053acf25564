/**
 * Delivery statuses (contract additions, "Delivery"): one record per (notification, channel,
 * device) and round of activity, with its status, the reason, and the attempts made. The id is
 * derived, so that every instance and every retry updates the same record.
 */
import { createHash } from 'node:crypto'

export const DELIVERY_STATUSES = ['pending', 'sent', 'skipped', 'failed', 'dead'] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]

/** Why a delivery was skipped (contract: `present`, `read`; and the preferences' answers). */
export type SkipReason = 'present' | 'read' | 'channel_off' | 'subject_muted'

export interface DeliveryRecord {
  id: string
  userId: string
  notificationId: string
  channel: string
  deviceId: string | null
  status: DeliveryStatus
  reason: string | null
  attempts: number
  /** The notification's `notifiedAt` this delivery is for: new activity is a new round. */
  round: number
  updatedAt: number
}

export function deliveryId(userId: string, notificationId: string, channel: string, deviceId: string | null): string {
  const hash = createHash('sha256')
    .update([userId, notificationId, channel, deviceId ?? ''].join('\u0000'))
    .digest('base64url')
  return `v_${hash.slice(0, 16)}`
}

/** Done with this round: nothing more to send (sent, skipped, or given up). */
export function isSettled(record: DeliveryRecord, round: number): boolean {
  return record.round >= round && (record.status === 'sent' || record.status === 'skipped' || record.status === 'dead')
}
