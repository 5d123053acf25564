/**
 * The random pool (server/runtime/random-pool.ts): installed first, as the `parley` command does,
 * lib0 draws a Y.Doc's randomness from it; draws are fresh bytes; what it does not serve behaves
 * exactly as Node's own `getRandomValues`. Run in a child process: the pool is process-wide.
 */
import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/random-pool-child.ts')

interface ChildReport {
  servedByDocs: number
  sameArray: boolean
  globalIsPooled: boolean
  distinctDraws: number
  refilled: number
  meanByte: number
  errors: Record<string, { pool: string | null; node: string | null }>
  largeServedByNode: boolean
}

async function report(): Promise<ChildReport> {
  const { stdout } = await promisify(execFile)(process.execPath, [CHILD], { timeout: 30_000 })
  return JSON.parse(stdout) as ChildReport
}

describe('random pool', () => {
  it('serves lib0, answers like Node and hands out fresh bytes', async () => {
    const child = await report()
    // 32 draws per Y.Doc (31 for its guid's uuid, one for its client id), all from the pool.
    expect(child.servedByDocs).toBe(100 * 32)
    expect(child.globalIsPooled).toBe(true)
    expect(child.sameArray).toBe(true)
    expect(child.distinctDraws).toBe(3)
    expect(child.refilled).toBeGreaterThanOrEqual(1)
    // 100,000 uniform bytes: mean 127.5, standard error about 0.23.
    expect(child.meanByte).toBeGreaterThan(125.5)
    expect(child.meanByte).toBeLessThan(129.5)
    expect(child.largeServedByNode).toBe(true)
    for (const [name, { pool, node }] of Object.entries(child.errors)) {
      expect(node, name).not.toBeNull()
      expect(pool, name).toBe(node)
    }
  }, 40_000)
})
