/**
 * Versioned SQLite schema. Each entry runs once, in order; `PRAGMA user_version` records how far
 * a database has come. Never edit an entry that has shipped: add a new one.
 */
import type Database from 'better-sqlite3'

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE document_snapshots (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    -- the last log seq merged into this snapshot; appends continue after it
    upto_seq INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE document_log (
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, seq)
  ) WITHOUT ROWID;
  CREATE TABLE document_quarantine (
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, seq)
  );
  `,
]

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > MIGRATIONS.length) {
    throw new Error(`the SQLite database is at schema ${current}, newer than this Parley (${MIGRATIONS.length})`)
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] ?? '')
      db.pragma(`user_version = ${version + 1}`)
    })()
  }
}
