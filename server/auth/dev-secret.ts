/**
 * Dev mode signs and verifies tokens with a random HS256 secret kept in the data directory, so
 * `npm run token` and `npm start` agree without any configuration.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/** File name of the dev secret inside `PARLEY_DATA_DIR`. */
export const DEV_SECRET_FILE = 'dev-secret'

/** Reads the dev secret, creating it (mode 0600) on first use. */
export function loadOrCreateDevSecret(dataDir: string): string {
  const file = path.join(dataDir, DEV_SECRET_FILE)
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  mkdirSync(dataDir, { recursive: true })
  const secret = randomBytes(32).toString('hex')
  try {
    // 'wx' fails if another process created it meanwhile; then read theirs.
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' })
    return secret
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return readFileSync(file, 'utf8').trim()
  }
}
