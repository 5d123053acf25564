/** Client-id owners in SQLite. */
import type Database from 'better-sqlite3'
import type { ClientOwnerStore } from '../../../core/storage/types.ts'

export class SqliteClientOwnerStore implements ClientOwnerStore {
  private readonly db: Database.Database
  private readonly statements

  constructor(db: Database.Database) {
    this.db = db
    this.statements = {
      owners: db.prepare<[string], { client_id: number; user_id: string }>('SELECT client_id, user_id FROM client_owners WHERE document = ?'),
      bind: db.prepare<[string, number, string, number]>(
        'INSERT INTO client_owners (document, client_id, user_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
    }
  }

  async owners(documentName: string): Promise<Map<number, string>> {
    return new Map(this.statements.owners.all(documentName).map((row) => [row.client_id, row.user_id]))
  }

  async bind(documentName: string, clients: readonly number[], userId: string): Promise<void> {
    const now = Date.now()
    this.db.transaction(() => {
      for (const client of clients) this.statements.bind.run(documentName, client, userId, now)
    })()
  }
}
