/**
 * Every transaction origin Parley writes with or tells apart, in one place. Yjs hands a
 * transaction's origin to every observer; Hocuspocus marks its own with `{ source }`
 * (`isTransactionOrigin`): `connection` for a client's update, `redis` for one relayed from another
 * instance, `local` for a direct connection's `transact`.
 */
import { isTransactionOrigin } from '@hocuspocus/server'

/** Updates applied while loading a document from storage: never appended, detected or projected again. */
export const LOAD_ORIGIN = Symbol('parley.durability.load')

/** The presence extension's coalesced awareness updates. */
export const PRESENCE_ORIGIN = { source: 'local', context: { presence: true } } as const

/** Context of the inbox projector's own direct connections (the inbox extension skips its load-time sync for them). */
export const PROJECTOR_CONTEXT = { parleyProjector: true } as const

/** An update a client sent on its socket. */
export function isFromConnection(origin: unknown): boolean {
  return isTransactionOrigin(origin) && origin.source === 'connection'
}

/** An update another instance relayed through Redis (checked, stored and detected where it entered). */
export function isRelayed(origin: unknown): boolean {
  return isTransactionOrigin(origin) && origin.source === 'redis'
}

/** A direct connection opened by the inbox projector. */
export function isProjectorContext(context: unknown): boolean {
  return typeof context === 'object' && context !== null && 'parleyProjector' in context && context.parleyProjector === PROJECTOR_CONTEXT.parleyProjector
}
