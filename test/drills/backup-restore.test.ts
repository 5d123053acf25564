/**
 * The backup and restore commands of docs/OPERATIONS.md ("Backups and restore"), run as written:
 * a server writes comments, the backup is taken while it runs, one more comment is written after
 * it, the backup is restored into a fresh data directory / database, and a server started on the
 * restored copy serves exactly what was acknowledged before the backup.
 */
import { execFile } from 'node:child_process'
import { copyFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import type { ParleyClient } from '../../client/index.ts'
import { SQLITE_FILE } from '../../server/storage/sqlite/index.ts'
import { createTestSchema, sharedDatabaseUrl, withSearchPath } from '../helpers/postgres.ts'
import { openSynced, sdkClient, waitAcknowledged } from '../helpers/sdk.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'

const run = promisify(execFile)

/** Comments acknowledged before the backup is taken. */
const COMMENTS = 5

/** Writes a thread with COMMENTS comments, then a comment after `backup()` ran; returns the texts the backup must hold. */
async function writeAround(server: TestServer, backup: () => Promise<void>, cleanups: Array<() => Promise<void>>): Promise<string[]> {
  const client = await sdkClient(server, 'ana')
  cleanups.push(() => client.close())
  const handle = await openSynced(client, 'backed-up')
  const texts = Array.from({ length: COMMENTS }, (_, i) => `comment ${i}`)
  const { threadId } = handle.createThread(texts[0]!)
  for (const text of texts.slice(1)) handle.reply(threadId, text)
  await waitAcknowledged(handle)
  await backup()
  handle.reply(threadId, 'after the backup')
  await waitAcknowledged(handle)
  return texts
}

/** The comment texts a server started on the restored copy serves. */
async function readBack(server: TestServer, cleanups: Array<() => Promise<void>>): Promise<string[]> {
  const client: ParleyClient = await sdkClient(server, 'ben')
  cleanups.push(() => client.close())
  const handle = await openSynced(client, 'backed-up')
  return handle.threads().flatMap((thread) => thread.comments.map((comment) => comment.text))
}

describe('backup and restore as documented', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('SQLite: sqlite3 .backup while the server runs, restored by copying the file into a new data directory', async () => {
    const server = await startServer()
    cleanups.push(() => server.dispose())
    const backupDir = tempDir()
    cleanups.push(async () => rmSync(backupDir, { recursive: true, force: true }))
    const backupFile = path.join(backupDir, 'parley-backup.db')
    const texts = await writeAround(
      server,
      async () => {
        await run('sqlite3', [path.join(server.dataDir, SQLITE_FILE), `.backup '${backupFile}'`])
      },
      cleanups,
    )
    await server.stop()

    const restoredDir = tempDir()
    copyFileSync(backupFile, path.join(restoredDir, SQLITE_FILE))
    const restored = await startServer({ dataDir: restoredDir, secret: server.secret })
    cleanups.push(() => restored.dispose())
    expect(await readBack(restored, cleanups)).toEqual(texts)
  })

  it('PostgreSQL: pg_dump --format=custom while the server runs, pg_restore into a new database', async () => {
    const schema = await createTestSchema()
    cleanups.push(() => schema.drop())
    const server = await startServer({ databaseUrl: schema.url })
    cleanups.push(() => server.dispose())
    const backupDir = tempDir()
    cleanups.push(async () => rmSync(backupDir, { recursive: true, force: true }))
    const dump = path.join(backupDir, 'parley.dump')
    const base = sharedDatabaseUrl()
    const texts = await writeAround(
      server,
      async () => {
        await run('pg_dump', ['--format=custom', '--no-owner', `--schema=${schema.name}`, `--file=${dump}`, base])
      },
      cleanups,
    )
    await server.stop()

    const database = `${schema.name}_restored`
    await run('psql', [base, '--command', `CREATE DATABASE ${database}`])
    cleanups.push(async () => {
      const dropper = new pg.Client({ connectionString: base })
      await dropper.connect()
      await dropper.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => dropper.end())
    })
    const restoredUrl = new URL(base)
    restoredUrl.pathname = `/${database}`
    await run('pg_restore', ['--no-owner', `--dbname=${restoredUrl.toString()}`, dump])

    const restored = await startServer({ databaseUrl: withSearchPath(restoredUrl.toString(), schema.name), secret: server.secret })
    cleanups.push(() => restored.dispose())
    expect(await readBack(restored, cleanups)).toEqual(texts)
  })
})
