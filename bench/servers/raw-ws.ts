/**
 * Baseline: a raw `ws` broadcast server, this machine's physical limit for the same clients.
 * It knows rooms (document names) and answers just enough Hocuspocus for the bench clients:
 * auth is accepted, sync step 1 gets the room's past update frames and an empty step 2, each
 * update frame is acknowledged, kept and relayed byte for byte to every socket in the room.
 * No Yjs, no storage. Listens on 127.0.0.1:$PORT; GET /health answers 200.
 */
import { createServer } from 'node:http'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import { EMPTY_UPDATE, MessageType, SyncStep, authenticatedFrame, readHead, syncStatusFrame, syncStep1Frame, syncStep2Frame } from '../lib/wire.ts'

interface Room {
  sockets: Set<WebSocket>
  /** Every update frame relayed so far, replayed to a socket that syncs. */
  history: Buffer[]
}

const rooms = new Map<string, Room>()

function roomOf(name: string): Room {
  let room = rooms.get(name)
  if (!room) {
    room = { sockets: new Set(), history: [] }
    rooms.set(name, room)
  }
  return room
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}

function handle(socket: WebSocket, joined: Set<Room>, frame: Buffer): void {
  const head = readHead(frame)
  const room = roomOf(head.documentName)
  if (head.type === MessageType.Auth) {
    room.sockets.add(socket)
    joined.add(room)
    socket.send(authenticatedFrame(head.documentName))
    return
  }
  if (head.type === MessageType.Sync && head.sub === SyncStep.Step1) {
    for (const update of room.history) socket.send(update)
    socket.send(syncStep2Frame(head.documentName, EMPTY_UPDATE))
    // Like Hocuspocus, ask for the client's state; the provider answers with step 2.
    socket.send(syncStep1Frame(head.documentName))
    return
  }
  if (head.type === MessageType.Sync && head.sub === SyncStep.Step2) {
    socket.send(syncStatusFrame(head.documentName, true))
    return
  }
  if (head.type === MessageType.Sync && head.sub === SyncStep.Update) {
    room.history.push(frame)
    for (const peer of room.sockets) peer.send(frame)
    socket.send(syncStatusFrame(head.documentName, true))
    return
  }
  // Awareness with at least one client state is relayed; an empty one is a keep-alive.
  if (head.type === MessageType.Awareness && frame.byteLength - head.offset > 2) {
    for (const peer of room.sockets) peer.send(frame)
  }
}

const http = createServer((request, response) => {
  response.writeHead(request.url === '/health' ? 200 : 404, { 'content-type': 'application/json' })
  response.end(JSON.stringify({ status: 'ok' }))
})
const wss = new WebSocketServer({ server: http, perMessageDeflate: false })
wss.on('connection', (socket) => {
  const joined = new Set<Room>()
  socket.on('message', (data: RawData) => {
    try {
      handle(socket, joined, toBuffer(data))
    } catch {
      socket.close(1002, 'malformed frame')
    }
  })
  socket.on('close', () => {
    for (const room of joined) room.sockets.delete(socket)
  })
  socket.on('error', () => socket.terminate())
})

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1')
