#!/usr/bin/env node
/**
 * The `parley` command: `parley serve` runs the server, `parley token` prints a development JWT,
 * `parley reindex [subjectId]` rebuilds the comment search index from stored documents.
 */
import './random-pool.ts'
import { parseArgs } from 'node:util'
import { isRole, type Role } from '../../protocol/index.ts'
import { devToken } from '../auth/sign.ts'
import { loadConfig, type ParleyConfig } from '../config.ts'
import { reindexCommand } from './reindex.ts'
import { serve } from './serve.ts'

const USAGE = `usage:
  parley serve
  parley token --user <id> [--name <name>] [--handle <handle>] [--access '<pattern>=<role>' ...] [--expires-in <seconds>]
  parley reindex [subjectId]`

function configOrExit(): ParleyConfig {
  const result = loadConfig(process.env)
  if (!result.ok) {
    console.error(`parley: ${result.error}`)
    process.exit(2)
  }
  return result.value
}

function parseAccess(entries: string[]): Record<string, Role> {
  const access: Record<string, Role> = {}
  for (const entry of entries) {
    const eq = entry.lastIndexOf('=')
    const pattern = entry.slice(0, eq)
    const role = entry.slice(eq + 1)
    if (eq <= 0 || !isRole(role)) {
      throw new Error(`--access '${entry}': expected '<pattern>=<role>' with role read, comment or moderate`)
    }
    access[pattern] = role
  }
  return access
}

async function token(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      user: { type: 'string' },
      name: { type: 'string' },
      handle: { type: 'string' },
      access: { type: 'string', multiple: true },
      'expires-in': { type: 'string' },
    },
    strict: true,
  })
  if (!values.user) throw new Error('--user <id> is required')
  const config = configOrExit()
  const expiresIn = values['expires-in'] === undefined ? undefined : Number(values['expires-in'])
  if (expiresIn !== undefined && (!Number.isInteger(expiresIn) || expiresIn <= 0)) {
    throw new Error('--expires-in takes a whole number of seconds')
  }
  const jwt = await devToken(config.jwt, config.dataDir, values.user, {
    name: values.name,
    handle: values.handle,
    access: values.access?.length ? parseAccess(values.access) : undefined,
    expiresInSeconds: expiresIn,
  })
  console.log(jwt)
}

const [command, ...rest] = process.argv.slice(2)
const HELP = new Set(['--help', '-h', 'help'])
try {
  // `parley --help`, `parley help` and `parley <command> --help` print the usage on stdout and exit 0.
  if ((command !== undefined && HELP.has(command)) || rest.some((arg) => arg === '--help' || arg === '-h')) {
    console.log(USAGE)
    process.exit(0)
  }
  if (command === 'serve' || command === undefined) await serve(configOrExit())
  else if (command === 'token') await token(rest)
  else if (command === 'reindex') await reindexCommand(configOrExit(), rest)
  else {
    console.error(USAGE)
    process.exit(2)
  }
} catch (error) {
  console.error(`parley: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(2)
}
