/** Delivery statuses in SQLite (core/delivery/deliveries.ts). */
import type Database from 'better-sqlite3'
import type { DeliveryRecord, DeliveryStatus } from '../../../core/delivery/deliveries.ts'
import type { DeliveryStore } from '../../../core/storage/types.ts'
import { DELIVERY_COLUMNS, deliveryValues, toDelivery, type DeliveryRow } from '../delivery-rows.ts'

export class SqliteDeliveryStore implements DeliveryStore {
  private readonly s

  constructor(db: Database.Database) {
    this.s = {
      put: db.prepare(`INSERT OR REPLACE INTO deliveries (${DELIVERY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      get: db.prepare<[string], DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = ?`),
      of: db.prepare<[string, string], DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE user_id = ? AND notification_id = ? ORDER BY channel, device_id`,
      ),
      list: db.prepare<[{ status: string; at: number | null; id: string; limit: number }], DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE status = @status AND (@at IS NULL OR updated_at < @at OR (updated_at = @at AND id > @id))
         ORDER BY updated_at DESC, id LIMIT @limit`,
      ),
    }
  }

  async put(record: DeliveryRecord): Promise<void> {
    this.s.put.run(...deliveryValues(record))
  }

  async get(id: string): Promise<DeliveryRecord | null> {
    const row = this.s.get.get(id)
    return row ? toDelivery(row) : null
  }

  async ofNotification(userId: string, notificationId: string): Promise<DeliveryRecord[]> {
    return this.s.of.all(userId, notificationId).map(toDelivery)
  }

  async list(status: DeliveryStatus, limit: number, after: { updatedAt: number; id: string } | null): Promise<DeliveryRecord[]> {
    return this.s.list.all({ status, at: after?.updatedAt ?? null, id: after?.id ?? '', limit }).map(toDelivery)
  }
}
