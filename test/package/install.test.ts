/**
 * A clean install on a host whose own Node is older than Parley's (issue 24; ours ship Node 20):
 * the committed lockfile is what `npm install` computes (it is not rewritten), every dependency
 * install script is reviewed in `allowScripts`, and the only warnings are the three EBADENGINE
 * lines README.md explains (true of the host's Node; the scripts run on the pinned Node 24).
 */
import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/child.ts'
import { tempDir } from '../helpers/server.ts'
import { npmEnv } from './npm.ts'

const run = promisify(execFile)

/** PATH without the project's node_modules/.bin: npm runs on the host's own Node, as a new user's would. */
const HOST_PATH = (process.env.PATH ?? '')
  .split(path.delimiter)
  .filter((dir) => !dir.includes('node_modules'))
  .join(path.delimiter)

/** The packages whose `engines` ask for more than Node 20: Parley itself and two of its dependencies. */
const NEEDS_NODE_22 = ['@hocuspocus/server', 'better-sqlite3', 'parley']

/** The `npm warn <code>` codes and the packages named in EBADENGINE warnings of an npm run's stderr. */
function npmWarnings(stderr: string): { codes: string[]; badEngine: string[] } {
  const codes = new Set<string>()
  for (const match of stderr.matchAll(/^npm warn (\S+)/gm)) if (match[1]) codes.add(match[1])
  const badEngine = [...stderr.matchAll(/^npm warn EBADENGINE\s+package: '([^@']*@?[^@']+)@[^']+'/gm)].map((m) => m[1] ?? '')
  return { codes: [...codes].sort(), badEngine: badEngine.sort() }
}

describe('installing on the host’s own Node', () => {
  const work = tempDir('parley-install-')
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  it('leaves the committed lockfile unchanged and warns only about the engines README explains', async () => {
    mkdirSync(path.join(work, 'client'))
    for (const file of ['package.json', 'package-lock.json', 'client/package.json']) copyFileSync(path.join(ROOT, file), path.join(work, file))
    const hostNode = (await run('node', ['--version'], { env: { PATH: HOST_PATH } })).stdout.trim()
    const install = await run('npm', ['install', '--package-lock-only', '--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier'], {
      cwd: work,
      env: npmEnv({ PATH: HOST_PATH }),
    })
    expect(readFileSync(path.join(work, 'package-lock.json'), 'utf8')).toBe(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'))
    const warnings = npmWarnings(install.stderr)
    const hostMajor = Number(/^v(\d+)\./.exec(hostNode)?.[1])
    if (hostMajor >= 22) {
      expect(warnings.codes).toEqual([])
    } else {
      expect(warnings.codes).toEqual(['EBADENGINE'])
      expect(warnings.badEngine).toEqual(NEEDS_NODE_22)
    }
  }, 60_000)

  it('has every dependency install script reviewed in allowScripts', async () => {
    const listed = await run('npm', ['install-scripts', 'ls', '--no-update-notifier'], { cwd: ROOT, env: npmEnv({}) })
    expect(listed.stdout.trim()).toBe('No packages with unreviewed install scripts.')
  })
})
