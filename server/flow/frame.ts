/**
 * Reads only what flow control needs from an incoming frame, without handing it to Hocuspocus:
 * the address (document name), the message type, for Sync the sub-type and payload length, for
 * Awareness the entries' sizes (docs/PROTOCOL.md, "Wire protocol"). Also builds the few frames
 * the gate sends itself.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { documentNameOf, err, MessageType, ok, SyncType, type Result } from '../../protocol/index.ts'

/** Auth sub-type of a server's refusal. */
const AUTH_PERMISSION_DENIED = 1

/** Length of an update that carries nothing (no structs, empty delete set): `00 00`. */
const EMPTY_UPDATE_BYTES = 2

interface Addressed {
  /** The frame's address: the document name, or `name\0sessionId`. */
  address: string
  documentName: string
  bytes: number
}

export type FrameInfo =
  /** Update, or SyncStep2; `counts` is false for a SyncStep2 that carries nothing (a handshake). */
  | (Addressed & { kind: 'update'; counts: boolean })
  | (Addressed & { kind: 'syncStep1'; stateVectorBytes: number })
  | (Addressed & { kind: 'awareness' })
  /** Anything else: Auth, Close, Stateless, …, and frames whose header cannot be read. */
  | { kind: 'control'; address: string | null; documentName: string | null; bytes: number }

export function classifyFrame(frame: Uint8Array): FrameInfo {
  const bytes = frame.byteLength
  let address: string
  let type: number
  const decoder = decoding.createDecoder(frame)
  try {
    address = decoding.readVarString(decoder)
    type = decoding.readVarUint(decoder)
  } catch {
    return { kind: 'control', address: null, documentName: null, bytes }
  }
  const documentName = documentNameOf(address)
  if (type === MessageType.Awareness) return { kind: 'awareness', address, documentName, bytes }
  if (type !== MessageType.Sync && type !== MessageType.SyncReply) return { kind: 'control', address, documentName, bytes }
  try {
    const syncType = decoding.readVarUint(decoder)
    const length = decoding.readVarUint(decoder)
    if (syncType === SyncType.Step1) return { kind: 'syncStep1', address, documentName, bytes, stateVectorBytes: length }
    if (syncType === SyncType.Step2) return { kind: 'update', address, documentName, bytes, counts: length > EMPTY_UPDATE_BYTES }
    if (syncType === SyncType.Update) return { kind: 'update', address, documentName, bytes, counts: true }
  } catch {
    // An unreadable sync header: Hocuspocus refuses it; meter it as any other message.
  }
  return { kind: 'control', address, documentName, bytes }
}

export interface AwarenessLimits {
  maxStateBytes: number
  maxStates: number
  maxEntries: number
}

/** Why an awareness frame is dropped unread. */
export type AwarenessDrop = 'malformed' | 'too_many_states' | 'state_too_large'

/** The frame to deliver (its removals dropped when it also carries a state), or why it is dropped. */
export type AwarenessCheck = Result<Uint8Array, AwarenessDrop>

/** The JSON text `null`: a removal. */
const NULL_STATE = [0x6e, 0x75, 0x6c, 0x6c]

function isNullState(frame: Uint8Array, start: number, length: number): boolean {
  return length === NULL_STATE.length && NULL_STATE.every((byte, i) => frame[start + i] === byte)
}

/**
 * Checks an awareness frame before Hocuspocus decodes it: at most `maxStates` states that are
 * not removals, none larger than `maxStateBytes`, at most `maxEntries` entries. Removals of other
 * clients (a provider sends them when remote states time out) are taken out: Hocuspocus would
 * ignore them anyway, since a connection may only speak for its own client.
 */
export function checkAwareness(frame: Uint8Array, limits: AwarenessLimits): AwarenessCheck {
  const decoder = decoding.createDecoder(frame)
  let address: string
  const entries: Array<{ start: number; end: number; removal: boolean }> = []
  try {
    address = decoding.readVarString(decoder)
    decoding.readVarUint(decoder) // the message type, Awareness
    const length = decoding.readVarUint(decoder)
    if (decoder.pos + length !== frame.byteLength) return err('malformed')
    const count = decoding.readVarUint(decoder)
    if (count > limits.maxEntries) return err('too_many_states')
    for (let i = 0; i < count; i++) {
      const start = decoder.pos
      decoding.readVarUint(decoder) // client id
      decoding.readVarUint(decoder) // clock
      const stateBytes = decoding.readVarUint(decoder)
      const stateStart = decoder.pos
      if (stateStart + stateBytes > frame.byteLength) return err('malformed')
      if (stateBytes > limits.maxStateBytes) return err('state_too_large')
      decoder.pos += stateBytes
      entries.push({ start, end: decoder.pos, removal: isNullState(frame, stateStart, stateBytes) })
    }
    if (decoder.pos !== frame.byteLength) return err('malformed')
  } catch {
    return err('malformed')
  }
  if (entries.length <= 1) return ok(frame)
  const states = entries.filter((entry) => !entry.removal)
  if (states.length > limits.maxStates) return err('too_many_states')
  // Several entries, of which at most one is a state: keep the states, drop the removals.
  if (states.length === 0) return err('too_many_states')
  return ok(
    awarenessFrame(
      address,
      states.map((entry) => frame.subarray(entry.start, entry.end)),
    ),
  )
}

function awarenessFrame(address: string, entries: Uint8Array[]): Uint8Array {
  const inner = encoding.createEncoder()
  encoding.writeVarUint(inner, entries.length)
  for (const entry of entries) encoding.writeUint8Array(inner, entry)
  const outer = encoding.createEncoder()
  encoding.writeVarString(outer, address)
  encoding.writeVarUint(outer, MessageType.Awareness)
  encoding.writeVarUint8Array(outer, encoding.toUint8Array(inner))
  return encoding.toUint8Array(outer)
}

/** A Stateless frame for `address` (the `parley.error` message travels in one). */
export function statelessFrame(address: string, payload: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, address)
  encoding.writeVarUint(encoder, MessageType.Stateless)
  encoding.writeVarString(encoder, payload)
  return encoding.toUint8Array(encoder)
}

/** What the server told a client about a document: a refused authentication, or a `parley.error`. */
export interface OutgoingRefusal {
  kind: 'permissionDenied' | 'parleyError'
  documentName: string
  /** The error code (the refusal reason's `"<code>: "` prefix, or the message's `code`), if it has one. */
  code: string | undefined
}

/**
 * Reads an outgoing Auth/PermissionDenied or Stateless frame; null for any other frame. Skips the
 * address without decoding it: every outgoing frame passes here.
 */
export function outgoingRefusal(frame: Uint8Array): OutgoingRefusal | null {
  try {
    const decoder = decoding.createDecoder(frame)
    const addressBytes = decoding.readVarUint(decoder)
    const addressStart = decoder.pos
    decoder.pos += addressBytes
    const type = decoding.readVarUint(decoder)
    if (type !== MessageType.Auth && type !== MessageType.Stateless) return null
    const documentName = () => documentNameOf(new TextDecoder().decode(frame.subarray(addressStart, addressStart + addressBytes)))
    if (type === MessageType.Auth) {
      if (decoding.readVarUint(decoder) !== AUTH_PERMISSION_DENIED) return null
      const reason = decoding.readVarString(decoder)
      const colon = reason.indexOf(': ')
      return { kind: 'permissionDenied', documentName: documentName(), code: colon === -1 ? reason : reason.slice(0, colon) }
    }
    const payload: unknown = JSON.parse(decoding.readVarString(decoder))
    if (typeof payload !== 'object' || payload === null || !('type' in payload) || payload.type !== 'parley.error') return null
    return { kind: 'parleyError', documentName: documentName(), code: 'code' in payload && typeof payload.code === 'string' ? payload.code : undefined }
  } catch {
    return null
  }
}
