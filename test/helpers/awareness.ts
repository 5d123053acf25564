/**
 * A raw awareness peer: one `ws` socket speaking just enough of the wire protocol (auth, sync
 * step 1, awareness) to send awareness states with chosen client ids and clocks, and to record
 * every awareness frame the server sends, decoded, with its arrival time.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket, { type RawData } from 'ws'
import { waitFor } from './wait.ts'

const SYNC = 0
const AWARENESS = 1
const AUTH = 2
const SYNC_STEP_2 = 1
const AUTH_DENIED = 1

export interface AwarenessEntry {
  clientId: number
  clock: number
  state: Record<string, unknown> | null
}

export interface AwarenessFrame {
  /** Arrival time (Date.now()). */
  at: number
  entries: AwarenessEntry[]
}

function frame(documentName: string, type: number, write: (e: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, documentName)
  encoding.writeVarUint(encoder, type)
  write(encoder)
  return encoding.toUint8Array(encoder)
}

function toBuffer(data: RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return new Uint8Array(data)
}

export class AwarenessPeer {
  readonly frames: AwarenessFrame[] = []
  private readonly socket: WebSocket
  private readonly documentName: string
  synced = false
  denied: string | undefined

  private constructor(socket: WebSocket, documentName: string) {
    this.socket = socket
    this.documentName = documentName
    socket.on('message', (data: RawData) => this.receive(toBuffer(data)))
  }

  static async connect(url: string, documentName: string, token: string): Promise<AwarenessPeer> {
    const socket = new WebSocket(url)
    const peer = new AwarenessPeer(socket, documentName)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    socket.send(
      frame(documentName, AUTH, (e) => {
        encoding.writeVarUint(e, 0)
        encoding.writeVarString(e, token)
      }),
    )
    socket.send(
      frame(documentName, SYNC, (e) => {
        encoding.writeVarUint(e, 0)
        encoding.writeVarUint8Array(e, new Uint8Array([0]))
      }),
    )
    await waitFor(() => peer.synced || peer.denied !== undefined, `${documentName} synced`)
    if (peer.denied !== undefined) throw new Error(`refused: ${peer.denied}`)
    return peer
  }

  private receive(data: Uint8Array): void {
    const decoder = decoding.createDecoder(data)
    decoding.readVarString(decoder)
    const type = decoding.readVarUint(decoder)
    if (type === SYNC && decoding.readVarUint(decoder) === SYNC_STEP_2) this.synced = true
    if (type === AUTH && decoding.readVarUint(decoder) === AUTH_DENIED) this.denied = decoding.readVarString(decoder)
    if (type !== AWARENESS) return
    const update = decoding.createDecoder(decoding.readVarUint8Array(decoder))
    const entries: AwarenessEntry[] = []
    const count = decoding.readVarUint(update)
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(update)
      const clock = decoding.readVarUint(update)
      entries.push({ clientId, clock, state: JSON.parse(decoding.readVarString(update)) as Record<string, unknown> | null })
    }
    this.frames.push({ at: Date.now(), entries })
  }

  /** Sends one awareness message holding these states. */
  send(...states: Array<{ clientId: number; clock: number; state: Record<string, unknown> | null }>): void {
    this.socket.send(
      frame(this.documentName, AWARENESS, (e) => {
        const update = encoding.createEncoder()
        encoding.writeVarUint(update, states.length)
        for (const { clientId, clock, state } of states) {
          encoding.writeVarUint(update, clientId)
          encoding.writeVarUint(update, clock)
          encoding.writeVarString(update, JSON.stringify(state))
        }
        encoding.writeVarUint8Array(e, encoding.toUint8Array(update))
      }),
    )
  }

  /** Every entry received for a client, in order, with arrival times. */
  entriesOf(clientId: number): Array<AwarenessEntry & { at: number }> {
    return this.frames.flatMap((f) => f.entries.filter((e) => e.clientId === clientId).map((e) => ({ ...e, at: f.at })))
  }

  /** The last state received for a client (null: removed; undefined: never seen). */
  latest(clientId: number): Record<string, unknown> | null | undefined {
    const entries = this.entriesOf(clientId)
    return entries.length === 0 ? undefined : (entries[entries.length - 1]?.state ?? null)
  }

  close(): void {
    this.socket.terminate()
  }
}

/** A contract awareness state. */
export function presenceState(
  userId: string,
  extra: { status?: 'active' | 'idle'; typing?: { threadId: string | null; at: number } | null; name?: string } = {},
): Record<string, unknown> {
  return { user: { id: userId, name: extra.name ?? userId }, status: extra.status ?? 'active', typing: extra.typing ?? null }
}
