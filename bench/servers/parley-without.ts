/**
 * Parley with some of its extensions removed, for measurement only: what each feature costs under
 * a scenario's load, side by side with the full server in one invocation (issue 6: the guard;
 * issue 20: search; issue 22: the cost of every feature under heavy writes). Never a way to run
 * Parley. Same configuration as `parley serve` (from the environment); `BENCH_PARLEY_WITHOUT` names
 * the extensions to remove, comma-separated (`parley-guard,parley-search`), and each must exist.
 * The random pool is installed first, as by the `parley` command: without it every Yjs document
 * and awareness message pays for `crypto.getRandomValues` (12 % of the heavy-writes profile).
 */
import '../../server/bin/random-pool.ts'
import { loadConfig } from '../../server/config.ts'
import { createParleyServer } from '../../server/server.ts'

const names = (process.env.BENCH_PARLEY_WITHOUT ?? '').split(',').filter((name) => name !== '')
if (names.length === 0) throw new Error('BENCH_PARLEY_WITHOUT names no extension to remove')
const result = loadConfig(process.env)
if (!result.ok) throw new Error(result.error)
const server = await createParleyServer(result.value)
const extensions = server.hocuspocus.configuration.extensions
for (const name of names) {
  const index = extensions.findIndex((extension) => extension.extensionName === name)
  if (index === -1) throw new Error(`no extension ${name} to remove`)
  extensions.splice(index, 1)
}
await server.listen()
const stop = () => void server.close().then(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
