/**
 * The join cache's answer, through Hocuspocus's own `Connection` message handling (its
 * `beforeSync` callback wired to the extension, a socket that records what is sent): the cached
 * document first, then Hocuspocus's SyncStep1 and SyncStep2; one encoding per document state; the
 * fallback when the document was loaded again since the rewrite; the byte cap; unloading.
 */
import { Connection, Document } from '@hocuspocus/server'
import * as decoding from 'lib0/decoding'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { step1Frame } from '../../extensions/join-cache/frame.ts'
import { JoinCache } from '../../extensions/join-cache/index.ts'
import { createJoinCacheMetrics } from '../../server/observability/join-cache-metrics.ts'
import { createLogger } from '../../server/observability/logger.ts'
import { metricValue, syncStep1Frame } from '../limits/sockets.ts'

const NAME = 'comments/answer'

/** A document past the threshold: 100 KB of text. */
function largeDocument(name = NAME): Document {
  const document = new Document(name)
  document.getText('body').insert(0, 'z'.repeat(100_000))
  return document
}

interface Sent {
  sub: number
  payload: Uint8Array
}

function setup(maxBytes?: number) {
  const registry = new Registry()
  const cache = new JoinCache({ logger: createLogger('silent'), metrics: createJoinCacheMetrics(registry, () => undefined), maxBytes })
  /** Hands `frame`, rewritten as the server would with `loaded` loaded, to a new connection on `document`; resolves with the Sync frames sent. */
  async function join(frame: Uint8Array, document: Document, loaded: Document = document): Promise<Sent[]> {
    const sent: Sent[] = []
    const socket = {
      readyState: 1,
      close: () => undefined,
      send(data: string | ArrayBufferLike | Blob | ArrayBufferView) {
        if (!ArrayBuffer.isView(data)) return
        const decoder = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
        decoding.readVarString(decoder)
        if (decoding.readVarUint(decoder) !== 0) return
        sent.push({ sub: decoding.readVarUint(decoder), payload: decoding.readVarUint8Array(decoder) })
      },
    }
    const connection = new Connection(socket, new Request('http://localhost/'), document, 'socket', {})
    connection.beforeSync((c, payload) =>
      cache.beforeSync({ clientsCount: 1, context: {}, document, documentName: document.name, connection: c, type: payload.type, payload: payload.payload }),
    )
    connection.handleMessage(cache.prepare(frame, new Map([[loaded.name, loaded]])))
    await connection.waitForPendingMessages()
    connection.close()
    return sent
  }
  const count = async (result: string) => metricValue(await registry.metrics(), 'parley_join_cache_answers_total', `result="${result}"`)
  return { cache, join, count }
}

function rebuilt(sent: Sent[]): string {
  const doc = new Y.Doc()
  for (const frame of sent) if (frame.sub !== 0) Y.applyUpdate(doc, frame.payload)
  return doc.getText('body').toString()
}

describe('join cache answers', () => {
  it('sends the cached document before Hocuspocus’s SyncStep1 and a small SyncStep2; one encoding per state', async () => {
    const { cache, join, count } = setup()
    const document = largeDocument()
    const first = await join(syncStep1Frame(NAME), document)
    expect(first.map((f) => f.sub)).toEqual([2, 0, 1])
    expect(first[2]?.payload.byteLength).toBeLessThan(100)
    expect(rebuilt(first)).toBe(document.getText('body').toString())
    const second = await join(syncStep1Frame(NAME), document)
    expect(Buffer.from(second[0]?.payload ?? []).equals(Buffer.from(first[0]?.payload ?? [1]))).toBe(true)
    expect([await count('miss'), await count('hit')]).toEqual([1, 1])
    // The Update frame for the plain address: the encoding and a few header bytes.
    const encoded = first[0]?.payload.byteLength ?? 0
    expect(cache.heldBytes - encoded).toBeGreaterThan(0)
    expect(cache.heldBytes - encoded).toBeLessThan(64)

    // A change drops the encoding: the next joiner gets the new state, encoded again.
    document.getText('body').insert(0, 'new ')
    expect(cache.heldBytes).toBe(0)
    const third = await join(syncStep1Frame(NAME), document)
    expect(rebuilt(third).startsWith('new z')).toBe(true)
    expect([await count('miss'), await count('hit')]).toEqual([2, 1])
  })

  it('a joiner with a state vector is answered by Hocuspocus alone', async () => {
    const { join, count } = setup()
    const document = largeDocument()
    const partial = new Y.Doc()
    partial.getText('body').insert(0, 'own')
    const sent = await join(step1Frame(NAME, Y.encodeStateVector(partial)), document)
    expect(sent.map((f) => f.sub)).toEqual([0, 1])
    expect(await count('miss')).toBe(0)
  })

  it('a document loaded again since the rewrite is answered whole by Hocuspocus (the fallback)', async () => {
    const { join, count } = setup()
    const before = largeDocument()
    // Unloaded, then loaded again from storage: the same structs in another object, which the
    // cache knows nothing of. A SyncStep2 from the rewritten state vector alone would be empty.
    const again = new Document(NAME)
    Y.applyUpdate(again, Y.encodeStateAsUpdate(before))
    const sent = await join(syncStep1Frame(NAME), again, before)
    expect(sent.map((f) => f.sub)).toEqual([0, 1])
    expect(rebuilt(sent)).toBe(before.getText('body').toString())
    expect(await count('fallback')).toBe(1)
  })

  it('holds no more than its cap (least recently used dropped first) and forgets an unloaded document', async () => {
    const { cache, join, count } = setup(150_000)
    const a = largeDocument('comments/a')
    const b = largeDocument('comments/b')
    await join(syncStep1Frame(a.name), a)
    // One encoding (100 KB and a few bytes, by the client id's length) fits under the cap, not two.
    const one = (bytes: number) => bytes > 100_000 && bytes <= 150_000
    expect(one(cache.heldBytes)).toBe(true)
    await join(syncStep1Frame(b.name), b)
    expect(one(cache.heldBytes)).toBe(true)
    // a was dropped for b: encoded again, and b is dropped for it.
    await join(syncStep1Frame(a.name), a)
    expect([await count('miss'), await count('hit')]).toEqual([3, 0])
    await join(syncStep1Frame(a.name), a)
    expect(await count('hit')).toBe(1)
    // Still loaded: kept. Unloaded: forgotten.
    const held = cache.heldBytes
    await cache.afterUnloadDocument({ instance: { documents: new Map([[a.name, a]]) }, documentName: a.name })
    expect(cache.heldBytes).toBe(held)
    await cache.afterUnloadDocument({ instance: { documents: new Map() }, documentName: a.name })
    expect(cache.heldBytes).toBe(0)
  })
})
