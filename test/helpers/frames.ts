/** Hocuspocus frames built by hand, for clients that are not a provider. */
import * as encoding from 'lib0/encoding'

/** Message type of authentication, and its token sub-type (docs/PROTOCOL.md, "Auth payload"). */
const AUTH = 2
const AUTH_TOKEN = 0

export function authFrame(documentName: string, token: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, documentName)
  encoding.writeVarUint(encoder, AUTH)
  encoding.writeVarUint(encoder, AUTH_TOKEN)
  encoding.writeVarString(encoder, token)
  return encoding.toUint8Array(encoder)
}
