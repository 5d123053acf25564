/** Conversions both backends share for delivery rows. */
import type { DeliveryRecord, DeliveryStatus } from '../../core/delivery/deliveries.ts'

export interface DeliveryRow {
  id: string
  user_id: string
  notification_id: string
  channel: string
  device_id: string | null
  status: string
  reason: string | null
  attempts: number | string
  round: number | string
  updated_at: number | string
}

export const DELIVERY_COLUMNS = 'id, user_id, notification_id, channel, device_id, status, reason, attempts, round, updated_at'

export function toDelivery(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    userId: row.user_id,
    notificationId: row.notification_id,
    channel: row.channel,
    deviceId: row.device_id,
    status: row.status as DeliveryStatus,
    reason: row.reason,
    attempts: Number(row.attempts),
    round: Number(row.round),
    updatedAt: Number(row.updated_at),
  }
}

export function deliveryValues(r: DeliveryRecord): [string, string, string, string, string | null, string, string | null, number, number, number] {
  return [r.id, r.userId, r.notificationId, r.channel, r.deviceId, r.status, r.reason, r.attempts, r.round, r.updatedAt]
}
