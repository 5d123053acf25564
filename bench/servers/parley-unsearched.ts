/**
 * Parley without its search indexing, for one measurement only: the fan-out p95 with search on,
 * as a ratio to off (issue 20, the write-path cost of indexing). Same configuration as
 * `parley serve` (from the environment), the search extension removed.
 */
import { loadConfig } from '../../server/config.ts'
import { createParleyServer } from '../../server/server.ts'

const result = loadConfig(process.env)
if (!result.ok) throw new Error(result.error)
const server = await createParleyServer(result.value)
const extensions = server.hocuspocus.configuration.extensions
const index = extensions.findIndex((extension) => extension.extensionName === 'parley-search')
if (index === -1) throw new Error('no search extension to remove')
extensions.splice(index, 1)
await server.listen()
const stop = () => void server.close().then(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
