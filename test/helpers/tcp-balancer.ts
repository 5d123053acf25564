/**
 * A TCP load balancer for drills: round-robin over backends, no sticky sessions, and a backend
 * that refuses the connection is skipped (as a real balancer's failed connect is retried on the
 * next one). WebSocket upgrades pass through untouched, being plain TCP.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface Balancer {
  port: number
  url: string
  /** How many connections each backend port was given. */
  counts: Map<number, number>
  close(): Promise<void>
}

function tryConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const upstream = connect({ host: '127.0.0.1', port })
    upstream.once('connect', () => {
      upstream.removeListener('error', reject)
      resolve(upstream)
    })
    upstream.once('error', reject)
  })
}

export async function startBalancer(backends: readonly number[]): Promise<Balancer> {
  let next = 0
  const counts = new Map<number, number>()
  const sockets = new Set<Socket>()
  const pick = async (): Promise<Socket | undefined> => {
    for (let tries = 0; tries < backends.length; tries++) {
      const port = backends[next++ % backends.length]
      if (port === undefined) continue
      try {
        const upstream = await tryConnect(port)
        counts.set(port, (counts.get(port) ?? 0) + 1)
        return upstream
      } catch {
        // that backend is down: try the next one
      }
    }
    return undefined
  }
  const server: Server = createServer((downstream) => {
    downstream.pause()
    sockets.add(downstream)
    downstream.once('close', () => sockets.delete(downstream))
    downstream.on('error', () => downstream.destroy())
    pick().then(
      (upstream) => {
        if (!upstream) return downstream.destroy()
        sockets.add(upstream)
        upstream.once('close', () => {
          sockets.delete(upstream)
          downstream.destroy()
        })
        upstream.on('error', () => upstream.destroy())
        downstream.once('close', () => upstream.destroy())
        downstream.pipe(upstream)
        upstream.pipe(downstream)
        downstream.resume()
      },
      () => downstream.destroy(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('balancer not listening')
  return {
    port: address.port,
    url: `ws://127.0.0.1:${address.port}`,
    counts,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
