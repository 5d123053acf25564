/**
 * Just enough of the Hocuspocus wire protocol for light bench clients and the raw-ws baseline.
 * A frame is varString(documentName), varUint(messageType), then the message; sync messages carry
 * a y-protocols sub-type (step 1, step 2, update) and a varUint8Array payload.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** Hocuspocus message types and the y-protocols sync sub-types (step 1, step 2, update), as the server reads them. */
export { MessageType, SyncType as SyncStep } from '../../protocol/wire.ts'
import { MessageType, SyncType as SyncStep } from '../../protocol/wire.ts'

/** Auth sub-types. */
export const AuthType = { Token: 0, PermissionDenied: 1, Authenticated: 2 } as const

/** Sent as the provider version in the auth message. */
export const BENCH_CLIENT_VERSION = 'parley-bench'

/** A Yjs v1 update with no structs and an empty delete set. */
export const EMPTY_UPDATE = new Uint8Array([0, 0])

/** An empty state vector: "I have nothing, send me everything". */
const EMPTY_STATE_VECTOR = new Uint8Array([0])

/** An awareness update for zero clients. */
const EMPTY_AWARENESS = new Uint8Array([0])

/** One frame: the document name, the message type, then what `write` adds. */
export function frame(documentName: string, type: number, write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, documentName)
  encoding.writeVarUint(encoder, type)
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/** Client → server: the token (and our version) for one document. */
export function authFrame(documentName: string, token: string): Uint8Array {
  return frame(documentName, MessageType.Auth, (e) => {
    encoding.writeVarUint(e, AuthType.Token)
    encoding.writeVarString(e, token)
    encoding.writeVarString(e, BENCH_CLIENT_VERSION)
  })
}

/** Sync step 1 with an empty state vector ("send me everything"). */
export function syncStep1Frame(documentName: string): Uint8Array {
  return frame(documentName, MessageType.Sync, (e) => {
    encoding.writeVarUint(e, SyncStep.Step1)
    encoding.writeVarUint8Array(e, EMPTY_STATE_VECTOR)
  })
}

/** Sync step 2 carrying `update` (the raw-ws server's answer to step 1). */
export function syncStep2Frame(documentName: string, update: Uint8Array): Uint8Array {
  return frame(documentName, MessageType.Sync, (e) => {
    encoding.writeVarUint(e, SyncStep.Step2)
    encoding.writeVarUint8Array(e, update)
  })
}

/** An awareness message for zero clients: a keep-alive that changes nothing. */
export function emptyAwarenessFrame(documentName: string): Uint8Array {
  return frame(documentName, MessageType.Awareness, (e) => encoding.writeVarUint8Array(e, EMPTY_AWARENESS))
}

/** Server → client: authenticated with write access. */
export function authenticatedFrame(documentName: string): Uint8Array {
  return frame(documentName, MessageType.Auth, (e) => {
    encoding.writeVarUint(e, AuthType.Authenticated)
    encoding.writeVarString(e, 'read-write')
  })
}

/** Server → client: the update was applied (`true`) or refused. */
export function syncStatusFrame(documentName: string, applied: boolean): Uint8Array {
  return frame(documentName, MessageType.SyncStatus, (e) => encoding.writeVarUint(e, applied ? 1 : 0))
}

export interface FrameHead {
  documentName: string
  type: number
  /** The sync step (Sync, SyncReply) or auth sub-type (Auth); -1 for other messages. */
  sub: number
  /** Offset of what follows the sub-type (or the type, when there is none). */
  offset: number
}

/** Decodes the document name, type and sub-type of a frame; throws on a malformed one. */
export function readHead(data: Uint8Array): FrameHead {
  const decoder = decoding.createDecoder(data)
  const documentName = decoding.readVarString(decoder)
  const type = decoding.readVarUint(decoder)
  const hasSub = type === MessageType.Sync || type === MessageType.SyncReply || type === MessageType.Auth
  const sub = hasSub ? decoding.readVarUint(decoder) : -1
  return { documentName, type, sub, offset: decoder.pos }
}

/** The varUint8Array payload that starts at `offset` (a sync step's update or state vector). */
export function readPayload(data: Uint8Array, offset: number): Uint8Array {
  const decoder = decoding.createDecoder(data)
  decoder.pos = offset
  return decoding.readVarUint8Array(decoder)
}

/** The reason string of a permission-denied auth message. */
export function readDeniedReason(data: Uint8Array, offset: number): string {
  const decoder = decoding.createDecoder(data)
  decoder.pos = offset
  return decoding.hasContent(decoder) ? decoding.readVarString(decoder) : 'permission denied'
}
