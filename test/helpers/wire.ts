/** A WebSocket speaking the Hocuspocus wire format by hand (no provider): auth, then Update frames; counts what the server answers. */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import { authFrame } from './frames.ts'
import { waitFor } from './wait.ts'

/** Hocuspocus message types and sync sub-types (y-protocols/sync, @hocuspocus/server types.ts). */
const MESSAGE_SYNC = 0
const MESSAGE_AUTH = 2
const MESSAGE_SYNC_STATUS = 8
const SYNC_UPDATE = 2
const AUTHENTICATED = 2

/** A WebSocket speaking the Hocuspocus wire format by hand: auth, then Update frames; counts acknowledgements. */
export interface WireClient {
  /** `SyncStatus(true)` messages received. */
  acknowledged: number
  /** `SyncStatus(false)` messages and closes. */
  refusals: number
  sendUpdate(update: Uint8Array): void
  close(): void
}

export async function wireClient(url: string, documentName: string, token: string): Promise<WireClient> {
  const socket = new WebSocket(url)
  socket.binaryType = 'nodebuffer'
  let authenticated = false
  const client: WireClient = {
    acknowledged: 0,
    refusals: 0,
    sendUpdate(update) {
      const encoder = encoding.createEncoder()
      encoding.writeVarString(encoder, documentName)
      encoding.writeVarUint(encoder, MESSAGE_SYNC)
      encoding.writeVarUint(encoder, SYNC_UPDATE)
      encoding.writeVarUint8Array(encoder, update)
      socket.send(encoding.toUint8Array(encoder))
    },
    close: () => socket.close(),
  }
  socket.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data))
    decoding.readVarString(decoder)
    const type = decoding.readVarUint(decoder)
    if (type === MESSAGE_AUTH && decoding.readVarUint(decoder) === AUTHENTICATED) authenticated = true
    if (type === MESSAGE_SYNC_STATUS) {
      if (decoding.readVarUint(decoder) === 1) client.acknowledged++
      else client.refusals++
    }
  })
  socket.on('close', () => client.refusals++)
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  socket.send(authFrame(documentName, token))
  await waitFor(() => authenticated, 'the wire client is authenticated')
  return client
}
