/**
 * The join cache's frame rewrite (extensions/join-cache/): only a fresh joiner's SyncStep1 for a
 * loaded document changes, to the document's state vector; every other frame, malformed ones
 * included, passes untouched and nothing throws.
 */
import { Document } from '@hocuspocus/server'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { emptyStateVectorInPlace, readFreshStep1, step1Frame, updateFrame } from '../../extensions/join-cache/frame.ts'
import { JoinCache } from '../../extensions/join-cache/index.ts'
import { createLogger } from '../../server/observability/logger.ts'
import { authFrame } from '../helpers/frames.ts'

const NAME = 'comments/rewrite'

function frame(address: string, ...parts: Array<number | Uint8Array>): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, address)
  for (const part of parts) {
    if (typeof part === 'number') encoding.writeVarUint(encoder, part)
    else encoding.writeVarUint8Array(encoder, part)
  }
  return encoding.toUint8Array(encoder)
}

const EMPTY_SV = new Uint8Array([0])

function loaded(): Map<string, Document> {
  const document = new Document(NAME)
  document.getText('body').insert(0, 'some content')
  return new Map([[NAME, document]])
}

/** The address and state vector of a SyncStep1 frame. */
function readStep1(bytes: Uint8Array): { address: string; stateVector: Uint8Array } {
  const decoder = decoding.createDecoder(bytes)
  const address = decoding.readVarString(decoder)
  expect([decoding.readVarUint(decoder), decoding.readVarUint(decoder)]).toEqual([0, 0])
  return { address, stateVector: decoding.readVarUint8Array(decoder) }
}

describe('join cache frames', () => {
  const cache = () => new JoinCache({ logger: createLogger('silent') })

  it('reads a fresh SyncStep1 on a plain or a session address', () => {
    expect(readFreshStep1(frame(NAME, 0, 0, EMPTY_SV))).toEqual({ address: NAME, documentName: NAME })
    expect(readFreshStep1(frame(`${NAME}\0s1`, 0, 0, EMPTY_SV))).toEqual({ address: `${NAME}\0s1`, documentName: NAME })
  })

  it.each([
    ['a SyncStep1 with a state vector', frame(NAME, 0, 0, Y.encodeStateVector(loaded().get(NAME) ?? new Y.Doc()))],
    ['a SyncStep1 with a zero-length state vector', frame(NAME, 0, 0, new Uint8Array())],
    ['a SyncStep1 with bytes after it', new Uint8Array([...frame(NAME, 0, 0, EMPTY_SV), 0])],
    ['a SyncReply SyncStep1', frame(NAME, 4, 0, EMPTY_SV)],
    ['a SyncStep2', frame(NAME, 0, 1, new Uint8Array([0, 0]))],
    ['an Update', frame(NAME, 0, 2, new Uint8Array([0, 0]))],
    ['an awareness message', frame(NAME, 1, new Uint8Array([0]))],
    ['an auth message', authFrame(NAME, 'token')],
    ['a Close', frame(NAME, 7)],
    ['an empty frame', new Uint8Array()],
    ['a truncated SyncStep1', frame(NAME, 0, 0).subarray(0, 5)],
    ['a length past the end', new Uint8Array([...frame(NAME, 0, 0), 9, 0])],
    ['garbage', new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 255, 1])],
  ])('leaves %s untouched', (_, bytes) => {
    expect(readFreshStep1(bytes)).toBeUndefined()
    expect(cache().prepare(bytes, loaded())).toBe(bytes)
  })

  it.each([NAME, `${NAME}\0session-7`])('rewrites a fresh SyncStep1 on %j to the loaded document’s state vector', (address) => {
    const documents = loaded()
    const original = frame(address, 0, 0, EMPTY_SV)
    const rewritten = cache().prepare(original, documents)
    expect(rewritten).not.toBe(original)
    const step1 = readStep1(rewritten)
    expect(step1.address).toBe(address)
    const document = documents.get(NAME)
    expect(document).toBeDefined()
    if (document) expect(step1.stateVector).toEqual(Y.encodeStateVector(document))
    // A buffer of its own: the rewrite is found again by it.
    expect(rewritten.byteOffset).toBe(0)
    expect(rewritten.buffer.byteLength).toBe(rewritten.byteLength)
  })

  it('leaves a fresh SyncStep1 untouched when the document is not loaded or empty', () => {
    const bytes = frame(NAME, 0, 0, EMPTY_SV)
    expect(cache().prepare(bytes, new Map())).toBe(bytes)
    expect(cache().prepare(bytes, new Map([[NAME, new Document(NAME)]]))).toBe(bytes)
    const other = frame('comments/other', 0, 0, EMPTY_SV)
    expect(cache().prepare(other, loaded())).toBe(other)
  })

  it('an emptied rewritten state vector makes Yjs answer the whole document (the fallback)', () => {
    const document = loaded().get(NAME) ?? new Y.Doc()
    const rewritten = step1Frame(NAME, Y.encodeStateVector(document))
    const { stateVector } = readStep1(rewritten)
    expect(Y.encodeStateAsUpdate(document, stateVector).byteLength).toBeLessThan(Y.encodeStateAsUpdate(document).byteLength)
    emptyStateVectorInPlace(stateVector)
    const joined = new Y.Doc()
    Y.applyUpdate(joined, Y.encodeStateAsUpdate(document, readStep1(rewritten).stateVector))
    expect(joined.getText('body').toString()).toBe('some content')
  })

  it('writes the Update frame a fresh joiner gets first', () => {
    const decoder = decoding.createDecoder(updateFrame(`${NAME}\0s`, new Uint8Array([1, 2, 3])))
    expect(decoding.readVarString(decoder)).toBe(`${NAME}\0s`)
    expect([decoding.readVarUint(decoder), decoding.readVarUint(decoder)]).toEqual([0, 2])
    expect(decoding.readVarUint8Array(decoder)).toEqual(new Uint8Array([1, 2, 3]))
  })
})
