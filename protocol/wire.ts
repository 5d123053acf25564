/**
 * The wire frame's header as docs/PROTOCOL.md ("Wire protocol") writes it down: every frame starts
 * with its address (varstring: the document name, or `name\0sessionId` on a multiplexed socket),
 * then the Hocuspocus message type (varuint); a Sync frame goes on with the y-protocols sync type.
 */

/** Hocuspocus message types (`MessageType` in @hocuspocus/server). */
export const MessageType = {
  Sync: 0,
  Awareness: 1,
  Auth: 2,
  QueryAwareness: 3,
  SyncReply: 4,
  Stateless: 5,
  BroadcastStateless: 6,
  Close: 7,
  SyncStatus: 8,
} as const

/** y-protocols sync sub-types (`messageYjsSyncStep1`, …). */
export const SyncType = { Step1: 0, Step2: 1, Update: 2 } as const

/** Separates the document name from the session id in a frame's address. */
export const ADDRESS_SEPARATOR = '\0'

/** The document name a frame's address speaks for. */
export function documentNameOf(address: string): string {
  const separator = address.indexOf(ADDRESS_SEPARATOR)
  return separator === -1 ? address : address.slice(0, separator)
}
