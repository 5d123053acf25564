/** The opaque cursor of a keyset page ordered by a time, then an id: base64url of `[time, id]`. */

export function encodeKeyset(time: number, id: string): string {
  return Buffer.from(JSON.stringify([time, id])).toString('base64url')
}

/** The time and id of a cursor this server gave; null for anything else. */
export function decodeKeyset(cursor: string): { time: number; id: string } | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (Array.isArray(parsed) && typeof parsed[0] === 'number' && typeof parsed[1] === 'string') return { time: parsed[0], id: parsed[1] }
  } catch {
    // not one of ours
  }
  return null
}
