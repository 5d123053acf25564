/** What a packed or installed package holds: its tarball's files, its dependency tree, its size. */
import { execFile } from 'node:child_process'
import { lstatSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { cleanEnv } from '../helpers/child.ts'

const run = promisify(execFile)

/**
 * The environment for an npm child: the test's, less Parley's configuration and the `npm_*`
 * variables an outer `npm test` or `npx` exported (the child is its own npm run in its own folder).
 */
export function npmEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = cleanEnv(extra)
  for (const key of Object.keys(env)) if (key.toLowerCase().startsWith('npm_')) delete env[key]
  return env
}

/** The files in a tarball `npm pack` wrote, relative to the package (without `package/`). */
export async function packedFiles(tarball: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-tzf', tarball])
  return stdout
    .split('\n')
    .filter((line) => line !== '' && !line.endsWith('/'))
    .map((line) => line.replace(/^package\//, ''))
    .sort()
}

interface LsNode {
  dependencies?: Record<string, LsNode>
}

/** Every package name in an installed project's dependency tree (`npm ls --all`), each once. */
export async function dependencyNames(projectDir: string): Promise<string[]> {
  const { stdout } = await run('npm', ['ls', '--all', '--json'], { cwd: projectDir, env: npmEnv() })
  const names = new Set<string>()
  const walk = (node: LsNode) => {
    for (const [name, child] of Object.entries(node.dependencies ?? {})) {
      names.add(name)
      walk(child)
    }
  }
  walk(JSON.parse(stdout) as LsNode)
  return [...names].sort()
}

/** Bytes of every file under a directory (symbolic links counted as links, not followed). */
export function directorySize(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    total += entry.isDirectory() ? directorySize(full) : lstatSync(full).size
  }
  return total
}
