/** Users' email and locale in SQLite (core/storage/contact-types.ts). */
import type Database from 'better-sqlite3'
import type { ContactStore, UserContact } from '../../../core/storage/contact-types.ts'

interface ContactRow {
  email: string | null
  locale: string | null
  updated_at: number
}

export class SqliteContactStore implements ContactStore {
  private readonly s
  private readonly putTransaction: (userId: string, change: { email?: string | null; locale?: string | null }, at: number) => UserContact

  constructor(db: Database.Database) {
    this.s = {
      get: db.prepare<[string], ContactRow>('SELECT email, locale, updated_at FROM user_contacts WHERE user_id = ?'),
      put: db.prepare<[string, string | null, string | null, number]>(
        `INSERT INTO user_contacts (user_id, email, locale, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, locale = excluded.locale, updated_at = excluded.updated_at`,
      ),
      markEmailed: db.prepare<[number, string]>('UPDATE user_contacts SET emailed_at = MAX(COALESCE(emailed_at, 0), ?) WHERE user_id = ?'),
      emailedAt: db.prepare<[string], { emailed_at: number | null }>('SELECT emailed_at FROM user_contacts WHERE user_id = ?'),
    }
    this.putTransaction = db.transaction((userId: string, change: { email?: string | null; locale?: string | null }, at: number) => {
      const current = this.s.get.get(userId)
      const next = {
        email: change.email === undefined ? (current?.email ?? null) : change.email,
        locale: change.locale === undefined ? (current?.locale ?? null) : change.locale,
        updatedAt: at,
      }
      this.s.put.run(userId, next.email, next.locale, at)
      return next
    })
  }

  async get(userId: string): Promise<UserContact | null> {
    const row = this.s.get.get(userId)
    return row ? { email: row.email, locale: row.locale, updatedAt: row.updated_at } : null
  }

  async put(userId: string, change: { email?: string | null; locale?: string | null }, at: number): Promise<UserContact> {
    return this.putTransaction(userId, change, at)
  }

  async markEmailed(userId: string, at: number): Promise<void> {
    this.s.markEmailed.run(at, userId)
  }

  async lastEmailedAt(userId: string): Promise<number | null> {
    return this.s.emailedAt.get(userId)?.emailed_at ?? null
  }
}
