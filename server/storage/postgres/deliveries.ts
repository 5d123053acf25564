/** Delivery statuses in PostgreSQL (core/delivery/deliveries.ts). */
import type { DeliveryRecord, DeliveryStatus } from '../../../core/delivery/deliveries.ts'
import type { DeliveryStore } from '../../../core/storage/types.ts'
import { DELIVERY_COLUMNS, deliveryValues, toDelivery, type DeliveryRow } from '../delivery-rows.ts'
import type { PostgresPool } from './pool.ts'

const UPDATES = DELIVERY_COLUMNS.split(', ')
  .filter((c) => c !== 'id')
  .map((c) => `${c} = excluded.${c}`)
  .join(', ')

export class PostgresDeliveryStore implements DeliveryStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  async put(record: DeliveryRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO deliveries (${DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO UPDATE SET ${UPDATES}`,
      deliveryValues(record),
    )
  }

  async get(id: string): Promise<DeliveryRecord | null> {
    const rows = await this.db.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = $1`, [id])
    return rows[0] ? toDelivery(rows[0]) : null
  }

  async ofNotification(userId: string, notificationId: string): Promise<DeliveryRecord[]> {
    const rows = await this.db.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE user_id = $1 AND notification_id = $2 ORDER BY channel, device_id COLLATE "C"`,
      [userId, notificationId],
    )
    return rows.map(toDelivery)
  }

  async list(status: DeliveryStatus, limit: number, after: { updatedAt: number; id: string } | null): Promise<DeliveryRecord[]> {
    const rows = await this.db.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE status = $1 AND ($2::bigint IS NULL OR updated_at < $2 OR (updated_at = $2 AND id COLLATE "C" > $3))
       ORDER BY updated_at DESC, id COLLATE "C" LIMIT $4`,
      [status, after?.updatedAt ?? null, after?.id ?? '', limit],
    )
    return rows.map(toDelivery)
  }
}
