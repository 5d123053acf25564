/** Users' email and locale in PostgreSQL (core/storage/contact-types.ts). */
import type { ContactStore, UserContact } from '../../../core/storage/contact-types.ts'
import type { PostgresPool } from './pool.ts'

interface ContactRow {
  email: string | null
  locale: string | null
  updated_at: string | number
}

const toContact = (row: ContactRow): UserContact => ({ email: row.email, locale: row.locale, updatedAt: Number(row.updated_at) })

export class PostgresContactStore implements ContactStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  async get(userId: string): Promise<UserContact | null> {
    const rows = await this.db.query<ContactRow>('SELECT email, locale, updated_at FROM user_contacts WHERE user_id = $1', [userId])
    return rows[0] ? toContact(rows[0]) : null
  }

  async put(userId: string, change: { email?: string | null; locale?: string | null }, at: number): Promise<UserContact> {
    // one statement: a field not given keeps its stored value (the flags say which were given)
    const rows = await this.db.query<ContactRow>(
      `INSERT INTO user_contacts AS c (user_id, email, locale, updated_at) VALUES ($1, $2, $4, $6)
       ON CONFLICT (user_id) DO UPDATE SET
         email = CASE WHEN $3 THEN excluded.email ELSE c.email END,
         locale = CASE WHEN $5 THEN excluded.locale ELSE c.locale END,
         updated_at = excluded.updated_at
       RETURNING email, locale, updated_at`,
      [userId, change.email ?? null, change.email !== undefined, change.locale ?? null, change.locale !== undefined, at],
    )
    const row = rows[0]
    if (!row) throw new Error('the contact upsert returned no row')
    return toContact(row)
  }

  async markEmailed(userId: string, at: number): Promise<void> {
    await this.db.query('UPDATE user_contacts SET emailed_at = GREATEST(COALESCE(emailed_at, 0), $2) WHERE user_id = $1', [userId, at])
  }

  async lastEmailedAt(userId: string): Promise<number | null> {
    const rows = await this.db.query<{ emailed_at: string | number | null }>('SELECT emailed_at FROM user_contacts WHERE user_id = $1', [userId])
    const at = rows[0]?.emailed_at
    return at === undefined || at === null ? null : Number(at)
  }
}
