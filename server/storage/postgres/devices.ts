/** Push devices in PostgreSQL (core/delivery/devices.ts); a user's registrations are serialised by an advisory lock. */
import type { DevicePlatform, DeviceRecord } from '../../../core/delivery/devices.ts'
import type { DeviceStore } from '../../../core/storage/types.ts'
import { toNumber, type PostgresPool } from './pool.ts'

interface DeviceRow {
  id: string
  user_id: string
  platform: string
  token: string
  created_at: string | number
  last_sent_at: string | number | null
}

const COLUMNS = 'id, user_id, platform, token, created_at, last_sent_at'

function toDevice(row: DeviceRow): DeviceRecord {
  return {
    id: row.id,
    userId: row.user_id,
    platform: row.platform as DevicePlatform,
    token: row.token,
    createdAt: toNumber(row.created_at),
    lastSentAt: row.last_sent_at === null ? null : toNumber(row.last_sent_at),
  }
}

export class PostgresDeviceStore implements DeviceStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  register(device: DeviceRecord, max: number): Promise<{ device: DeviceRecord; removed: string[] }> {
    return this.db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`devices:${device.userId}`])
      // Strictly after the user's latest, so that "oldest" is the order of registration.
      const latest = await client.query<{ at: string | number | null }>('SELECT MAX(created_at) AS at FROM devices WHERE user_id = $1', [device.userId])
      const createdAt = Math.max(device.createdAt, toNumber(latest.rows[0]?.at ?? 0) + 1)
      await client.query(
        `INSERT INTO devices (id, user_id, platform, token, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET token = excluded.token`,
        [device.id, device.userId, device.platform, device.token, createdAt],
      )
      const all = (await client.query<DeviceRow>(`SELECT ${COLUMNS} FROM devices WHERE user_id = $1 ORDER BY created_at, id`, [device.userId])).rows
      const removed = all
        .filter((row) => row.id !== device.id)
        .slice(0, Math.max(0, all.length - max))
        .map((row) => row.id)
      if (removed.length > 0) await client.query('DELETE FROM devices WHERE id = ANY($1::text[])', [removed])
      const stored = all.find((row) => row.id === device.id)
      return { device: stored ? toDevice(stored) : device, removed }
    })
  }

  async list(userId: string): Promise<DeviceRecord[]> {
    return (await this.db.query<DeviceRow>(`SELECT ${COLUMNS} FROM devices WHERE user_id = $1 ORDER BY created_at, id`, [userId])).map(toDevice)
  }

  async remove(userId: string, id: string): Promise<boolean> {
    return (await this.db.query<{ id: string }>('DELETE FROM devices WHERE user_id = $1 AND id = $2 RETURNING id', [userId, id])).length > 0
  }

  async forget(id: string): Promise<void> {
    await this.db.query('DELETE FROM devices WHERE id = $1', [id])
  }

  async markSent(id: string, at: number): Promise<void> {
    await this.db.query('UPDATE devices SET last_sent_at = $2 WHERE id = $1', [id, at])
  }
}
