/**
 * Small random draws served from a pooled buffer. lib0, under Yjs, draws random values one
 * `crypto.getRandomValues` call at a time: each new `Y.Doc` makes 32 calls (31 for the uuid of its
 * guid, one for its client id), and Node runs every call as a crypto job of its own, about 4 µs
 * whatever the size. Hocuspocus builds a scratch `Y.Doc` for every awareness message it receives,
 * so at 10,000 sockets these calls were 13 % of the server's CPU (issue 22).
 *
 * {@link installRandomPool} has `crypto.getRandomValues` serve integer arrays of up to
 * {@link MAX_POOLED_BYTES} from a {@link POOL_BYTES} buffer that `randomFillSync` refills once used
 * up: the same CSPRNG output, each byte handed out once, one crypto job per 4 KiB (the `uuid`
 * package pools its random bytes the same way). Larger or other requests, and every error, go to
 * Node's own implementation. lib0 binds `getRandomValues` when it is first loaded, so the pool must
 * be installed before anything imports Yjs: the `parley` command does it in its first import
 * (server/bin/random-pool.ts, also the package export `parley/random-pool`).
 */
import { randomFillSync, webcrypto } from 'node:crypto'

/** Size of the buffer small draws are served from. */
export const POOL_BYTES = 4096
/** Largest draw served from the pool; larger ones call Node's `getRandomValues` directly. */
export const MAX_POOLED_BYTES = 256

type IntegerArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array

function pooled(value: unknown): value is IntegerArray {
  return (
    value instanceof Uint8Array ||
    value instanceof Uint32Array ||
    value instanceof Int32Array ||
    value instanceof Uint16Array ||
    value instanceof Int16Array ||
    value instanceof Int8Array
  )
}

export interface RandomPoolStats {
  /** Draws served from the pool. */
  served: number
  /** Times the pool was refilled from `randomFillSync`. */
  refills: number
}

interface Installed {
  stats: RandomPoolStats
}

let installed: Installed | undefined

/** Installs the pool on `crypto.getRandomValues` (once per process; later calls return the same stats). */
export function installRandomPool(): RandomPoolStats {
  if (installed) return installed.stats
  const stats: RandomPoolStats = { served: 0, refills: 0 }
  const original = webcrypto.getRandomValues.bind(webcrypto)
  const pool = Buffer.allocUnsafe(POOL_BYTES)
  let offset = POOL_BYTES
  function getRandomValues<T extends ArrayBufferView | null>(array: T): T {
    if (!pooled(array) || array.byteLength > MAX_POOLED_BYTES) return original(array as never) as T
    const size = array.byteLength
    if (offset + size > POOL_BYTES) {
      randomFillSync(pool)
      offset = 0
      stats.refills++
    }
    // lib0's one 32-bit draw (every other call of a Y.Doc's) without a view; else a byte copy.
    if (array instanceof Uint32Array && array.length === 1) array[0] = pool.readUInt32LE(offset)
    else pool.copy(new Uint8Array(array.buffer, array.byteOffset, size), 0, offset, offset + size)
    offset += size
    stats.served++
    return array
  }
  Object.defineProperty(webcrypto, 'getRandomValues', { value: getRandomValues, writable: true, configurable: true })
  installed = { stats }
  return stats
}
