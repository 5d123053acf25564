/**
 * Thread `metadata` entries, with REST's caps: a value is a JSON primitive (string, finite number,
 * boolean, null) of at most {@link MAX_METADATA_VALUE_BYTES} bytes of JSON, a key 1 to
 * {@link MAX_METADATA_KEY_LENGTH} code units, and a thread at most {@link MAX_METADATA_ENTRIES} keys.
 */
import * as Y from 'yjs'
import { ErrorCode, MAX_METADATA_ENTRIES, MAX_METADATA_KEY_LENGTH, MAX_METADATA_VALUE_BYTES, type ErrorCode as Code } from '../../protocol/index.ts'
import type { TypeKey, UpdateIndex } from './update-index.ts'

export interface MetadataRefusal {
  code: Code
  reason: string
}

const refusal = (code: Code, reason: string): MetadataRefusal => ({ code, reason })

function isPrimitive(value: unknown): value is string | number | boolean | null {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
}

/**
 * Why a value written at `key` of `metadata` is refused, or null. `value` is the entry as a plain
 * value: binary, embedded documents, text content and nested types are not primitives.
 */
export function metadataEntryRefusal(key: string, value: unknown): MetadataRefusal | null {
  if (key.length === 0) return refusal(ErrorCode.WriteRejected, 'a metadata key cannot be empty')
  if (key.length > MAX_METADATA_KEY_LENGTH) return refusal(ErrorCode.TooLarge, `a metadata key is at most ${MAX_METADATA_KEY_LENGTH} characters`)
  if (!isPrimitive(value)) return refusal(ErrorCode.WriteRejected, `metadata "${key}" must be a string, finite number, boolean or null`)
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_METADATA_VALUE_BYTES) {
    return refusal(ErrorCode.TooLarge, `metadata "${key}" is at most ${MAX_METADATA_VALUE_BYTES} bytes of JSON`)
  }
  return null
}

/** Live keys of a metadata map before the update (a type the update creates has none). */
function keysBefore(metadata: TypeKey): Map<string, Y.Item> {
  const live = new Map<string, Y.Item>()
  if (metadata instanceof Y.AbstractType) {
    for (const [key, item] of metadata._map) if (!item.deleted) live.set(key, item)
  }
  return live
}

/**
 * Why the update leaves a metadata map with too many keys, or null. A map already over the cap
 * (written before the guard had it) may keep its keys and lose some, but not grow.
 */
export function metadataCountRefusal(metadata: TypeKey, index: UpdateIndex): MetadataRefusal | null {
  const before = keysBefore(metadata)
  const after = new Set<string>()
  for (const [key, item] of before) if (!index.deletesFresh(item)) after.add(key)
  for (const key of index.keysWritten(metadata)) {
    if (index.entries(metadata, key).some((entry) => !(entry.content instanceof Y.ContentDeleted) && !index.deletesFresh(entry))) after.add(key)
  }
  if (after.size > MAX_METADATA_ENTRIES && after.size > before.size) {
    return refusal(ErrorCode.TooLarge, `a thread's metadata holds at most ${MAX_METADATA_ENTRIES} keys`)
  }
  return null
}
