/**
 * Bench comments, written with the shared schema module (protocol/comments): schema-valid
 * threads and comments, nested types created in the same transaction as their parent.
 *
 * Every bench comment id carries {@link COMMENT_MARKER} and a sequence number, which appear as
 * plain UTF-8 in the Yjs update: light readers find them in a frame without decoding Yjs.
 */
import type * as Y from 'yjs'
import { createThread, reply, threadsMap, type WriteContext } from '../../protocol/comments/index.ts'

/** Prefix of every bench comment id: `BENCH.<seq>.c`. */
export const COMMENT_MARKER = 'BENCH.'

const MARKER_BYTES = Buffer.from(COMMENT_MARKER, 'utf8')
const DIGIT_0 = 0x30
const DIGIT_9 = 0x39

/** Filler words for comment bodies (no marker inside). */
const WORDS = ['looks', 'good', 'to', 'me', 'but', 'the', 'second', 'paragraph', 'needs', 'a', 'source', 'and', 'maybe', 'shorter']

export function commentId(seq: number): string {
  return `${COMMENT_MARKER}${seq}.c`
}

/** A readable body of about `chars` characters. */
export function commentBody(seq: number, chars: number): string {
  let body = `Comment ${seq}:`
  for (let i = seq; body.length < chars; i++) body += ` ${WORDS[i % WORDS.length] ?? 'x'}`
  return body.slice(0, Math.max(chars, 12))
}

export interface BenchComment {
  commentId: string
  body: string
}

/** A write context whose ids come from `ids` in order (a thread id, then comment ids). */
function contextWith(doc: Y.Doc, userId: string, ids: string[]): WriteContext {
  return { doc, userId, newId: () => ids.shift() ?? globalThis.crypto.randomUUID() }
}

/**
 * Adds comments as `userId` to thread `threadId`, in one transaction (one update): the thread is
 * created with the first comment when it does not exist yet, the others are replies.
 */
export function addComments(doc: Y.Doc, userId: string, threadId: string, comments: readonly BenchComment[]): void {
  doc.transact(() => {
    let rest = comments
    const first = comments[0]
    if (first && !threadsMap(doc).has(threadId)) {
      createThread(contextWith(doc, userId, [threadId, first.commentId]), first.body)
      rest = comments.slice(1)
    }
    for (const comment of rest) reply(contextWith(doc, userId, [comment.commentId]), threadId, comment.body)
  })
}

/**
 * Calls `found(seq)` for each bench comment id in `data` (a frame or a Yjs update).
 * Returns how many it found.
 */
export function findMarkers(data: Uint8Array, found: (seq: number) => void): number {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  let count = 0
  let at = bytes.indexOf(MARKER_BYTES)
  while (at !== -1) {
    let pos = at + MARKER_BYTES.length
    let seq = 0
    let digits = 0
    for (let byte = bytes[pos]; byte !== undefined && byte >= DIGIT_0 && byte <= DIGIT_9; byte = bytes[++pos]) {
      seq = seq * 10 + (byte - DIGIT_0)
      digits++
    }
    if (digits > 0) {
      found(seq)
      count++
    }
    at = bytes.indexOf(MARKER_BYTES, pos)
  }
  return count
}
