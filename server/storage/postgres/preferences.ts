/** Notification preferences in PostgreSQL: one JSON row per user that set any, updated under a row lock. */
import type { StoredPreferences } from '../../../core/notifications/preferences.ts'
import type { PreferenceStore } from '../../../core/storage/types.ts'
import type { PostgresPool } from './pool.ts'

export class PostgresPreferenceStore implements PreferenceStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  async get(userId: string): Promise<StoredPreferences | null> {
    const rows = await this.db.query<{ settings: string }>('SELECT settings FROM notification_preferences WHERE user_id = $1', [userId])
    const settings = rows[0]?.settings
    return settings === undefined ? null : (JSON.parse(settings) as StoredPreferences)
  }

  async getMany(userIds: readonly string[]): Promise<Map<string, StoredPreferences>> {
    const found = new Map<string, StoredPreferences>()
    if (userIds.length === 0) return found
    const rows = await this.db.query<{ user_id: string; settings: string | null }>(
      'SELECT user_id, settings FROM notification_preferences WHERE user_id = ANY($1::text[])',
      [[...userIds]],
    )
    for (const row of rows) if (row.settings !== null) found.set(row.user_id, JSON.parse(row.settings) as StoredPreferences)
    return found
  }

  async update(userId: string, change: (current: StoredPreferences | null) => StoredPreferences): Promise<StoredPreferences> {
    return this.db.transaction(async (client) => {
      // The row exists before it is locked, so two first updates wait for each other too.
      await client.query(`INSERT INTO notification_preferences (user_id, settings, updated_at) VALUES ($1, NULL, $2) ON CONFLICT (user_id) DO NOTHING`, [
        userId,
        Date.now(),
      ])
      const locked = await client.query<{ settings: string | null }>('SELECT settings FROM notification_preferences WHERE user_id = $1 FOR UPDATE', [userId])
      const current = locked.rows[0]?.settings
      const next = change(current === null || current === undefined ? null : (JSON.parse(current) as StoredPreferences))
      await client.query('UPDATE notification_preferences SET settings = $2, updated_at = $3 WHERE user_id = $1', [userId, JSON.stringify(next), Date.now()])
      return next
    })
  }
}
