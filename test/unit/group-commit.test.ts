/**
 * Group commit on SQLite (server/storage/sqlite/group-commit.ts): writes made in one turn of the
 * event loop are written in one transaction, each resolving only after it committed; a failed
 * write fails alone unless SQLite ended the whole transaction; a full group commits at once; reads
 * and `close()` write what is still waiting first.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import path from 'node:path'
import Database from 'better-sqlite3'
import { GroupAborted, GroupCommit, MAX_GROUP_WRITES } from '../../server/storage/sqlite/group-commit.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { tempDir } from '../helpers/server.ts'

/** A database file of its own and a second connection to it, which sees only what was committed. */
function databases() {
  const file = path.join(tempDir(), 'group.db')
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.exec('CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT NOT NULL)')
  const other = new Database(file, { readonly: true })
  const committed = () =>
    other
      .prepare<[], { x: number }>('SELECT x FROM t ORDER BY x')
      .all()
      .map((r) => r.x)
  return { db, committed, close: () => (other.close(), db.close()) }
}

describe('GroupCommit', () => {
  it('writes the writes of one turn in one transaction, in order, and resolves each only after it committed', async () => {
    const { db, committed, close } = databases()
    const group = new GroupCommit(db)
    const insert = db.prepare<[number]>("INSERT INTO t (x, y) VALUES (?, 'v')")
    const seenAtResolve: number[][] = []
    const writes = [1, 2, 3].map((x) => group.run(() => (insert.run(x), db.inTransaction)).then((inside) => (seenAtResolve.push(committed()), inside)))
    expect(committed()).toEqual([])
    expect(await Promise.all(writes)).toEqual([true, true, true])
    // The first to resolve already sees all three: they committed together, before any resolved.
    expect(seenAtResolve).toEqual([
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ])
    await nextTurn()
    expect(await group.run(() => insert.run(4).changes)).toBe(1)
    expect(committed()).toEqual([1, 2, 3, 4])
    close()
  })

  it('fails a failed write alone: a failed statement and a failed savepoint leave nothing of theirs, the rest commits', async () => {
    const { db, committed, close } = databases()
    const group = new GroupCommit(db)
    const insert = db.prepare<[number]>("INSERT INTO t (x, y) VALUES (?, 'v')")
    const twoRows = db.transaction((x: number) => {
      insert.run(x)
      insert.run(1) // taken: the savepoint undoes the row above too
    })
    const outcomes = await Promise.allSettled([
      group.run(() => insert.run(1)),
      group.run(() => insert.run(1)),
      group.run(() => twoRows(7)),
      group.run(() => insert.run(2)),
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled'])
    expect(committed()).toEqual([1, 2])
    close()
  })

  it('fails every write of a group whose transaction SQLite ended on its own (disk full, I/O error), and keeps none of it', async () => {
    const { db, committed, close } = databases()
    const group = new GroupCommit(db)
    const insert = db.prepare<[number]>("INSERT INTO t (x, y) VALUES (?, 'v')")
    const outcomes = await Promise.allSettled([
      group.run(() => insert.run(1)),
      group.run(() => {
        db.exec('ROLLBACK') // what SQLite does on SQLITE_FULL
        throw new Error('database or disk is full')
      }),
      group.run(() => insert.run(3)),
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected'])
    expect(outcomes[0]).toMatchObject({ reason: expect.any(GroupAborted) })
    expect(committed()).toEqual([])
    expect(await group.run(() => insert.run(4).changes)).toBe(1)
    expect(committed()).toEqual([4])
    close()
  })

  it('a group that yields commits after the one it yields to, whose callers carry on in between; it waits one turn at most', async () => {
    const { db, committed, close } = databases()
    const first = new GroupCommit(db)
    const derived = new GroupCommit(db, { yieldTo: first })
    const insert = db.prepare<[number]>("INSERT INTO t (x, y) VALUES (?, 'v')")
    const order: string[] = []
    // The derived write is made first in the turn: the first group still commits before it.
    const late = derived.run(() => insert.run(10)).then(() => order.push(`derived saw ${committed().join(',')}`))
    const early = first.run(() => insert.run(1)).then(() => order.push(`first saw ${committed().join(',')}`))
    await Promise.all([late, early])
    expect(order).toEqual(['first saw 1', 'derived saw 1,10'])

    // Writes to the first group in every turn do not hold the derived one back past one more turn.
    let turns = 0
    let stop = false
    const busy = (async () => {
      while (!stop) {
        await first.run(() => insert.run(100 + turns))
        turns++
      }
    })()
    const startedAt = turns
    await derived.run(() => insert.run(11))
    const waited = turns - startedAt
    stop = true
    await busy
    // The busy group's commits while it waited: the turn it was made in, the one turn it yields, the turn it commits in.
    expect(waited).toBeLessThanOrEqual(3)
    expect(committed()).toContain(11)
    close()
  })

  it(`a group of ${MAX_GROUP_WRITES} writes commits at once, before the end of the turn; one fewer waits for it`, async () => {
    const { db, committed, close } = databases()
    const first = new GroupCommit(db)
    const derived = new GroupCommit(db, { yieldTo: first })
    const insert = db.prepare<[number]>("INSERT INTO t (x, y) VALUES (?, 'v')")
    // Registered before the groups' own: it runs first in the check phase, the end of the turn.
    const race = async (count: number, group: GroupCommit, base: number) => {
      const endOfTurn = new Promise<string>((resolve) => setImmediate(() => resolve(`end of turn, committed ${committed().length}`)))
      const writes = Promise.all(Array.from({ length: count }, (_, i) => group.run(() => insert.run(base + i)))).then(
        () => `group, committed ${committed().length}`,
      )
      const winner = await Promise.race([endOfTurn, writes])
      await Promise.all([writes, endOfTurn])
      return winner
    }
    expect(await race(MAX_GROUP_WRITES - 1, first, 0)).toBe(`end of turn, committed 0`)
    expect(await race(MAX_GROUP_WRITES, first, 1000)).toBe(`group, committed ${2 * MAX_GROUP_WRITES - 1}`)
    // A full derived group commits the group it yields to first.
    const early = first.run(() => insert.run(5000))
    expect(await race(MAX_GROUP_WRITES, derived, 6000)).toBe(`group, committed ${3 * MAX_GROUP_WRITES}`)
    await early
    close()
  })

  it('on SQLite: appends of one turn get consecutive seqs per document; a head read and close() see appends still waiting', async () => {
    const dir = tempDir()
    const storage = SqliteStorage.inDataDir(dir)
    const update = new Uint8Array([0, 0])
    const seqs = await Promise.all([
      storage.documents.append('comments/a', update),
      storage.documents.append('comments/b', update),
      storage.documents.append('comments/a', update),
    ])
    expect(seqs).toEqual([1, 1, 2])
    const waiting = storage.documents.append('comments/a', update)
    expect(await storage.notifications.documentHead('comments/a')).toBe(3)
    expect(await waiting).toBe(3)
    void storage.documents.append('comments/a', update)
    await storage.close()
    const reopened = SqliteStorage.inDataDir(dir)
    expect((await reopened.documents.load('comments/a')).log.map((r) => r.seq)).toEqual([1, 2, 3, 4])
    await reopened.close()
  })
})
