/**
 * Migrations 5 and 6 on data written by schema 4, per backend: a handle several users held stays
 * with one (the backend's profile, then the latest update, then the smallest id), existing users
 * become searchable by handle, name and name word, and comments documents written before
 * notifications (content, no mark) get the mark -1, which the startup sweep leaves alone.
 */
import { rmSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { MARK_PREDATES_NOTIFICATIONS } from '../../core/storage/notification-types.ts'
import { PostgresStorage } from '../../server/storage/postgres/index.ts'
import { MIGRATIONS as PG_MIGRATIONS } from '../../server/storage/postgres/migrations.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../../server/storage/sqlite/migrations.ts'
import type { Storage } from '../../core/storage/types.ts'
import { createTestSchema } from '../helpers/postgres.ts'
import { tempDir } from '../helpers/server.ts'

/** The schema these tests start from: before the app-bounds migrations. */
const FROM_VERSION = 4

/** Users as schema 4 held them: [id, name, handle, from backend, updated at]. */
const USERS: Array<[string, string | null, string | null, boolean, number]> = [
  ['bob', 'Bob Stone', 'bob', true, 100],
  ['mallory', 'Mallory', 'bob', false, 900], // took bob's handle through a token, later
  ['t1', null, 'neo', false, 300],
  ['t2', null, 'neo', false, 500], // the latest of two token claims
  ['a1', null, 'same', false, 700],
  ['a0', null, 'same', false, 700], // a tie: the smallest id keeps it
  ['plain', 'Ana María Lopez', null, false, 1],
]

/** Documents as schema 4 held them: name → [log rows, detection mark]. */
const DOCUMENTS: Record<string, [number, number | null]> = {
  'comments/predates': [2, null],
  'comments/marked': [3, 3],
  'comments/behind': [3, 1],
  'inbox/ana': [1, null],
}

async function expectMigrated(storage: Storage): Promise<void> {
  expect((await storage.users.findByHandle('bob'))?.id).toBe('bob')
  expect((await storage.users.findByHandle('neo'))?.id).toBe('t2')
  expect((await storage.users.findByHandle('same'))?.id).toBe('a0')
  expect(await storage.users.get('mallory')).toMatchObject({ name: 'Mallory', handle: null })
  expect(await storage.users.get('t1')).toMatchObject({ handle: null })
  const ids = async (query: string) => (await storage.users.search(query, { limit: 50, after: null })).users.map((u) => u.id)
  expect(await ids('bob')).toEqual(['bob'])
  expect(await ids('stone')).toEqual(['bob'])
  expect(await ids('marí')).toEqual(['plain'])
  expect(await ids('lopez')).toEqual(['plain'])
  expect(await ids('ne')).toEqual(['t2'])
  // Keys: "ana maría lopez", "bob", "bob stone", "lopez", "mallory", "maría lopez", "neo", "same", "stone".
  expect(await ids('')).toEqual(['plain', 'bob', 'mallory', 't2', 'a0'])
  // A token claim now meets the unique handle: refused.
  expect(await storage.users.rememberToken('t1', { name: undefined, handle: 'NEO', access: undefined })).toEqual({ handleRefused: true })
  expect(await storage.notifications.detectionMark('comments/predates')).toBe(MARK_PREDATES_NOTIFICATIONS)
  expect(await storage.notifications.detectionMark('comments/marked')).toBe(3)
  expect(await storage.notifications.detectionMark('inbox/ana')).toBeNull()
  expect(await storage.notifications.documentsToReconcile()).toEqual(['comments/behind'])
}

describe('app-bounds migrations', () => {
  it('SQLite: from schema 4', async () => {
    const dir = tempDir('parley-migrate-')
    const file = path.join(dir, 'parley.db')
    const db = new Database(file)
    for (const sql of SQLITE_MIGRATIONS.slice(0, FROM_VERSION)) db.exec(sql)
    db.pragma(`user_version = ${FROM_VERSION}`)
    const insertUser = db.prepare(
      'INSERT INTO users (id, name, name_lower, handle, handle_lower, profile_from_backend, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    for (const [id, name, handle, backend, at] of USERS)
      insertUser.run(id, name, name?.toLowerCase() ?? null, handle, handle?.toLowerCase() ?? null, backend ? 1 : 0, at)
    for (const [name, [rows, mark]] of Object.entries(DOCUMENTS)) {
      for (let seq = 1; seq <= rows; seq++)
        db.prepare('INSERT INTO document_log (name, seq, data, created_at) VALUES (?, ?, ?, 0)').run(name, seq, Buffer.from([0, 0]))
      if (mark !== null) db.prepare('INSERT INTO notification_marks (document, seq, updated_at) VALUES (?, ?, 0)').run(name, mark)
    }
    db.close()
    const storage = new SqliteStorage(file)
    try {
      await expectMigrated(storage)
    } finally {
      await storage.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('PostgreSQL: from schema 4', async () => {
    const schema = await createTestSchema()
    const client = new pg.Client({ connectionString: schema.url })
    await client.connect()
    let storage: Storage | undefined
    try {
      await client.query('CREATE TABLE parley_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)')
      for (const [i, sql] of PG_MIGRATIONS.slice(0, FROM_VERSION).entries()) {
        await client.query(sql)
        await client.query('INSERT INTO parley_migrations (version, applied_at) VALUES ($1, 0)', [i + 1])
      }
      for (const [id, name, handle, backend, at] of USERS) {
        await client.query(
          'INSERT INTO users (id, name, name_lower, handle, handle_lower, profile_from_backend, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
          [id, name, name?.toLowerCase() ?? null, handle, handle?.toLowerCase() ?? null, backend, at],
        )
      }
      for (const [name, [rows, mark]] of Object.entries(DOCUMENTS)) {
        for (let seq = 1; seq <= rows; seq++)
          await client.query("INSERT INTO document_log (name, seq, data, created_at) VALUES ($1, $2, '\\x0000', 0)", [name, seq])
        await client.query('INSERT INTO document_heads (name, last_seq) VALUES ($1, $2)', [name, rows])
        if (mark !== null) await client.query('INSERT INTO notification_marks (document, seq, updated_at) VALUES ($1, $2, 0)', [name, mark])
      }
      storage = await PostgresStorage.open({ url: schema.url })
      await expectMigrated(storage)
    } finally {
      await storage?.close()
      await client.end()
      await schema.drop()
    }
  })
})
