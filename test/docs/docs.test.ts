/**
 * The docs name what the code has (issue 14, "docs that are true"), as the OpenAPI test does for
 * routes: every error code and close code in docs/PROTOCOL.md, every environment variable in the
 * README's configuration table and in docs/PROTOCOL.md, every metric a server registers in
 * docs/PROTOCOL.md ("Metrics").
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CloseCode, ErrorCode, SessionCloseCode } from '../../protocol/index.ts'
import { CONFIG_VARIABLES } from '../../server/config.ts'
import { ROOT } from '../helpers/child.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8')
const protocol = read('docs/PROTOCOL.md')
const readme = read('README.md')

/** Names the text does not mention as code: `name`, `name{labels}` or `name=value`. */
function undocumented(names: Iterable<string>, text: string): string[] {
  return [...names].filter((name) => !['`', '{', '='].some((after) => text.includes(`\`${name}${after}`)))
}

describe('docs/PROTOCOL.md and the README name what the code has', () => {
  it('every error code', () => {
    expect(Object.values(ErrorCode).length).toBeGreaterThan(10)
    expect(undocumented(Object.values(ErrorCode), protocol)).toEqual([])
  })

  it('every close code, with its reason, in a table row', () => {
    const rows = protocol.split('\n').filter((line) => line.startsWith('|'))
    const missing = Object.values(CloseCode).filter(({ code, reason }) => !rows.some((row) => row.startsWith(`| ${code} |`) && row.includes(`\`${reason}\``)))
    expect(missing).toEqual([])
    const sessionMissing = Object.values(SessionCloseCode).filter((code) => !rows.some((row) => row.startsWith(`| ${code} |`)))
    expect(sessionMissing).toEqual([])
  })

  it('every environment variable, in the README and in PROTOCOL', () => {
    expect(CONFIG_VARIABLES).toContain('PARLEY_CONNECTIONS_PER_ADDRESS')
    expect(undocumented(CONFIG_VARIABLES, readme)).toEqual([])
    expect(undocumented(CONFIG_VARIABLES, protocol)).toEqual([])
  })

  describe('every metric a server registers', () => {
    let s: TestServer | undefined
    beforeAll(async () => {
      s = await startServer()
    })
    afterAll(async () => {
      await s?.dispose()
    })

    it('is in the metrics table of PROTOCOL', async () => {
      const defaults = new Registry()
      collectDefaultMetrics({ register: defaults, prefix: 'parley_' })
      const builtIn = new Set((await defaults.getMetricsAsJSON()).map((metric) => metric.name))
      const ours = (await s!.server.metrics.registry.getMetricsAsJSON()).map((metric) => metric.name).filter((name) => !builtIn.has(name))
      expect(ours.length).toBeGreaterThan(30)
      expect(undocumented(ours, protocol)).toEqual([])
    })
  })
})
