/**
 * SQLite migration 21 (issue 22): the document log moves from a (name, seq) key without rowid to a
 * table in append order with a unique (name, seq) index. A log written by schema 20 loads the same
 * afterwards, appends carry on from its last seq, and (name, seq) stays unique.
 */
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { MIGRATIONS } from '../../server/storage/sqlite/migrations.ts'
import { tempDir } from '../helpers/server.ts'

/** The schema this test starts from: the last one with the log keyed by (name, seq). */
const FROM_VERSION = 20

describe('SQLite log layout migration (21)', () => {
  const open: SqliteStorage[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((storage) => storage.close()))
  })

  it('keeps every log row, in order, and appends after the last seq', async () => {
    const file = path.join(tempDir('parley-log-layout-'), 'parley.db')
    const db = new Database(file)
    for (const sql of MIGRATIONS.slice(0, FROM_VERSION)) db.exec(sql)
    db.pragma(`user_version = ${FROM_VERSION}`)
    const insert = db.prepare('INSERT INTO document_log (name, seq, data, created_at) VALUES (?, ?, ?, 0)')
    // Interleaved, as documents write them: b's rows arrive between a's.
    for (const [name, seq] of [
      ['a', 1],
      ['b', 1],
      ['a', 2],
      ['b', 2],
      ['a', 3],
    ] as const)
      insert.run(name, seq, Buffer.from(`${name}${seq}`))
    db.close()

    const storage = new SqliteStorage(file)
    open.push(storage)
    const text = (rows: ReadonlyArray<{ seq: number; data: Uint8Array }>) => rows.map((row) => [row.seq, Buffer.from(row.data).toString()])
    expect(text((await storage.documents.load('a')).log)).toEqual([
      [1, 'a1'],
      [2, 'a2'],
      [3, 'a3'],
    ])
    expect(text((await storage.documents.load('b')).log)).toEqual([
      [1, 'b1'],
      [2, 'b2'],
    ])
    expect(await storage.documents.append('a', Buffer.from('a4'))).toBe(4)
    expect(await storage.documents.append('c', Buffer.from('c1'))).toBe(1)
    expect(text((await storage.documents.load('a')).log).at(-1)).toEqual([4, 'a4'])
    await storage.close()
    open.pop()

    const after = new Database(file)
    expect(after.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length)
    expect(() => after.prepare('INSERT INTO document_log (name, seq, data, created_at) VALUES (?, ?, ?, 0)').run('a', 2, Buffer.from('again'))).toThrow(
      /UNIQUE/,
    )
    after.close()
  })
})
