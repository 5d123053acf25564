/** Push devices in SQLite (core/delivery/devices.ts). */
import type Database from 'better-sqlite3'
import type { DevicePlatform, DeviceRecord } from '../../../core/delivery/devices.ts'
import type { DeviceStore } from '../../../core/storage/types.ts'

interface DeviceRow {
  id: string
  user_id: string
  platform: string
  token: string
  created_at: number
  last_sent_at: number | null
}

const COLUMNS = 'id, user_id, platform, token, created_at, last_sent_at'

function toDevice(row: DeviceRow): DeviceRecord {
  return {
    id: row.id,
    userId: row.user_id,
    platform: row.platform as DevicePlatform,
    token: row.token,
    createdAt: row.created_at,
    lastSentAt: row.last_sent_at,
  }
}

export class SqliteDeviceStore implements DeviceStore {
  private readonly s
  private readonly registerTransaction: (device: DeviceRecord, max: number) => { device: DeviceRecord; removed: string[] }

  constructor(db: Database.Database) {
    const s = {
      upsert: db.prepare<[string, string, string, string, number]>(
        `INSERT INTO devices (id, user_id, platform, token, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET token = excluded.token`,
      ),
      get: db.prepare<[string], DeviceRow>(`SELECT ${COLUMNS} FROM devices WHERE id = ?`),
      list: db.prepare<[string], DeviceRow>(`SELECT ${COLUMNS} FROM devices WHERE user_id = ? ORDER BY created_at, id`),
      remove: db.prepare<[string, string]>('DELETE FROM devices WHERE user_id = ? AND id = ?'),
      forget: db.prepare<[string]>('DELETE FROM devices WHERE id = ?'),
      sent: db.prepare<[number, string]>('UPDATE devices SET last_sent_at = ? WHERE id = ?'),
      latest: db.prepare<[string], { at: number | null }>('SELECT MAX(created_at) AS at FROM devices WHERE user_id = ?'),
    }
    this.s = s
    this.registerTransaction = db
      .transaction((device: DeviceRecord, max: number) => {
        // Strictly after the user's latest, so that "oldest" is the order of registration.
        const createdAt = Math.max(device.createdAt, (s.latest.get(device.userId)?.at ?? 0) + 1)
        s.upsert.run(device.id, device.userId, device.platform, device.token, createdAt)
        const all = s.list.all(device.userId)
        // The newest `max` stay; the one just registered always does.
        const removed = all
          .filter((row) => row.id !== device.id)
          .slice(0, Math.max(0, all.length - max))
          .map((row) => row.id)
        for (const id of removed) s.forget.run(id)
        const stored = s.get.get(device.id)
        return { device: stored ? toDevice(stored) : device, removed }
      })
      .immediate.bind(null) as typeof this.registerTransaction
  }

  async register(device: DeviceRecord, max: number): Promise<{ device: DeviceRecord; removed: string[] }> {
    return this.registerTransaction(device, max)
  }

  async list(userId: string): Promise<DeviceRecord[]> {
    return this.s.list.all(userId).map(toDevice)
  }

  async remove(userId: string, id: string): Promise<boolean> {
    return this.s.remove.run(userId, id).changes > 0
  }

  async forget(id: string): Promise<void> {
    this.s.forget.run(id)
  }

  async markSent(id: string, at: number): Promise<void> {
    this.s.sent.run(at, id)
  }
}
