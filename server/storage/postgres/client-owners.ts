/** Client-id owners in PostgreSQL. */
import type { ClientOwnerStore } from '../../../core/storage/types.ts'
import { toNumber, type PostgresPool } from './pool.ts'

export class PostgresClientOwnerStore implements ClientOwnerStore {
  private readonly db: PostgresPool

  constructor(db: PostgresPool) {
    this.db = db
  }

  async owners(documentName: string): Promise<Map<number, string>> {
    const rows = await this.db.query<{ client_id: string; user_id: string }>('SELECT client_id, user_id FROM client_owners WHERE document = $1', [documentName])
    return new Map(rows.map((row) => [toNumber(row.client_id), row.user_id]))
  }

  async bind(documentName: string, clients: readonly number[], userId: string): Promise<void> {
    if (clients.length === 0) return
    await this.db.query(
      `INSERT INTO client_owners (document, client_id, user_id, created_at)
       SELECT $1, unnest($2::bigint[]), $3, $4
       ON CONFLICT DO NOTHING`,
      [documentName, clients, userId, Date.now()],
    )
  }
}
