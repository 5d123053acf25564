/** Connecting bench clients: full Yjs clients with bounded concurrency, tokens for light readers. */
import type { Progress } from './progress.ts'
import type { ReaderAssignment } from './reader-worker.ts'
import type { TargetServer } from './servers.ts'
import { pool } from './wait.ts'
import { FullClient } from './writer.ts'

/** Full clients connecting at once while ramping up. */
export const FULL_CONNECT_CONCURRENCY = 100

/** Failure reasons kept per batch for the run's notes. */
const MAX_REASONS = 3

export interface ClientSpec {
  documentName: string
  userId: string
}

export interface ConnectedClients {
  clients: FullClient[]
  failed: number
  /** The first few failure reasons. */
  reasons: string[]
}

/** Signs (or makes) a token for each light reader, for the reader threads. */
export function assignments(server: TargetServer, specs: readonly ClientSpec[]): Promise<ReaderAssignment[]> {
  return Promise.all(specs.map(async (spec) => ({ documentName: spec.documentName, token: await server.token(spec.userId) })))
}

/** Connects full Yjs clients; `onRemoteSeq` receives the bench comments each one applies. */
export async function connectFullClients(
  server: TargetServer,
  specs: readonly ClientSpec[],
  progress: Progress,
  onRemoteSeq?: (seq: number, at: number) => void,
): Promise<ConnectedClients> {
  let done = 0
  const results = await pool(specs, FULL_CONNECT_CONCURRENCY, async (spec) => {
    const token = await server.token(spec.userId)
    const client = new FullClient({ url: server.wsUrl, ...spec, token, onRemoteSeq })
    try {
      await client.connect()
      return client
    } catch (error) {
      client.destroy()
      throw error
    } finally {
      progress.update(`connecting Yjs clients ${++done}/${specs.length}`)
    }
  })
  const clients: FullClient[] = []
  const reasons: string[] = []
  for (const result of results) {
    if (result.status === 'fulfilled') clients.push(result.value)
    else if (reasons.length < MAX_REASONS) reasons.push(result.reason instanceof Error ? result.reason.message : String(result.reason))
  }
  return { clients, failed: specs.length - clients.length, reasons }
}

/** Destroys every full client. */
export function destroyAll(clients: readonly FullClient[]): void {
  for (const client of clients) client.destroy()
}
