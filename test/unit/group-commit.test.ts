/**
 * Group commit of the SQLite document log (server/storage/sqlite/group-commit.ts): appends made in
 * one turn of the event loop are written by one call (one transaction), each resolving with its
 * own seq only after that call; a failed write fails each append of its group and no other; reads
 * and `close()` write what is still waiting first.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { GroupCommit, type LogAppend } from '../../server/storage/sqlite/group-commit.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { tempDir } from '../helpers/server.ts'

const row = (name: string): LogAppend => ({ name, data: Buffer.from([1, 2, 3]), at: 0 })

describe('GroupCommit', () => {
  it('writes the appends of one turn in one call, in order, and resolves each after it', async () => {
    const calls: string[][] = []
    let next = 0
    const group = new GroupCommit((rows) => {
      calls.push(rows.map((r) => r.name))
      return rows.map(() => ++next)
    })
    const settled: number[] = []
    const first = ['a', 'b', 'a'].map((name) => group.append(row(name)).then((seq) => (settled.push(seq), seq)))
    expect(calls).toEqual([])
    expect(settled).toEqual([])
    expect(await Promise.all(first)).toEqual([1, 2, 3])
    await nextTurn()
    const second = await group.append(row('c'))
    expect(second).toBe(4)
    expect(calls).toEqual([['a', 'b', 'a'], ['c']])
  })

  it('fails every append of a failed group, and only those', async () => {
    let fail = true
    const group = new GroupCommit((rows) => {
      if (fail) throw new Error('disk full')
      return rows.map((_, i) => i + 1)
    })
    const failed = await Promise.allSettled([group.append(row('a')), group.append(row('b'))])
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    fail = false
    expect(await group.append(row('c'))).toBe(1)
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
