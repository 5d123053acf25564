/**
 * Parley without its write guard, for one measurement only: the fan-out p95 with the guard on, as
 * a ratio to off (issue 6). Never a way to run Parley: the guard is what makes writes trustworthy.
 * Same configuration as `parley serve` (from the environment), the guard extension removed.
 */
import { loadConfig } from '../../server/config.ts'
import { createParleyServer } from '../../server/server.ts'

const result = loadConfig(process.env)
if (!result.ok) throw new Error(result.error)
const server = await createParleyServer(result.value)
const extensions = server.hocuspocus.configuration.extensions
const index = extensions.findIndex((extension) => extension.extensionName === 'parley-guard')
if (index === -1) throw new Error('no guard extension to remove')
extensions.splice(index, 1)
await server.listen()
const stop = () => void server.close().then(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
