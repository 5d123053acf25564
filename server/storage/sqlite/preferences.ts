/** Notification preferences in SQLite: one JSON row per user that set any. */
import type Database from 'better-sqlite3'
import type { StoredPreferences } from '../../../core/notifications/preferences.ts'
import type { PreferenceStore } from '../../../core/storage/types.ts'

function parse(settings: string | undefined): StoredPreferences | null {
  return settings === undefined ? null : (JSON.parse(settings) as StoredPreferences)
}

export class SqlitePreferenceStore implements PreferenceStore {
  private readonly statements
  private readonly updateTransaction: (userId: string, change: (current: StoredPreferences | null) => StoredPreferences) => StoredPreferences

  constructor(db: Database.Database) {
    const s = {
      get: db.prepare<[string], { settings: string }>('SELECT settings FROM notification_preferences WHERE user_id = ?'),
      getMany: db.prepare<[string], { user_id: string; settings: string | null }>(
        'SELECT user_id, settings FROM notification_preferences WHERE user_id IN (SELECT value FROM json_each(?))',
      ),
      put: db.prepare<[string, string, number]>(
        `INSERT INTO notification_preferences (user_id, settings, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
      ),
    }
    this.statements = s
    this.updateTransaction = db
      .transaction((userId: string, change: (current: StoredPreferences | null) => StoredPreferences) => {
        const next = change(parse(s.get.get(userId)?.settings))
        s.put.run(userId, JSON.stringify(next), Date.now())
        return next
      })
      .immediate.bind(null) as typeof this.updateTransaction
  }

  async get(userId: string): Promise<StoredPreferences | null> {
    return parse(this.statements.get.get(userId)?.settings)
  }

  async getMany(userIds: readonly string[]): Promise<Map<string, StoredPreferences>> {
    const found = new Map<string, StoredPreferences>()
    if (userIds.length === 0) return found
    for (const row of this.statements.getMany.all(JSON.stringify(userIds))) {
      const settings = parse(row.settings ?? undefined)
      if (settings) found.set(row.user_id, settings)
    }
    return found
  }

  async update(userId: string, change: (current: StoredPreferences | null) => StoredPreferences): Promise<StoredPreferences> {
    return this.updateTransaction(userId, change)
  }
}
