/**
 * Baseline: plain Hocuspocus 4, no extensions (no auth, no storage), on 127.0.0.1:$PORT.
 * Any GET answers 200, which the bench uses as its health check.
 */
import { Server } from '@hocuspocus/server'

const server = new Server({ port: Number(process.env.PORT ?? 0), address: '127.0.0.1', quiet: true, stopOnSignals: false })
await server.listen()
