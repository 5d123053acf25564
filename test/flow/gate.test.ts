/**
 * The gate's logic in process, on a manual clock: frames within the rate pass at once, frames
 * past it wait in order with the socket paused and are all delivered once the buckets refill,
 * awareness is coalesced, the ceilings and the queue bound cut, oversized state vectors are
 * refused. Buckets, frame reading and the refusal backoff get their own checks.
 */
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { DEFAULT_FLOW_LIMITS, scaledUpdateBytes } from '../../server/flow/index.ts'
import { BucketLayout, Buckets, KeyedBuckets } from '../../server/flow/bucket.ts'
import { checkAwareness, classifyFrame, outgoingRefusal, statelessFrame } from '../../server/flow/frame.ts'
import { SocketGate, type Clock, type GateLimits, type GateRefusal } from '../../server/flow/gate.ts'
import { RefusalBackoff } from '../../server/flow/refusals.ts'

class ManualClock implements Clock {
  time = 0
  private timers: Array<{ at: number; callback: () => void; id: number }> = []
  private next = 1
  now(): number {
    return this.time
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.next++
    this.timers.push({ at: this.time + ms, callback, id })
    return id
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle)
  }
  /** Moves time forward, running due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0]
      if (!due) break
      this.timers = this.timers.filter((timer) => timer !== due)
      this.time = Math.max(this.time, due.at)
      due.callback()
    }
    this.time = end
  }
}

function frame(address: string, build: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, address)
  build(encoder)
  return encoding.toUint8Array(encoder)
}

/** A Sync/Update frame whose update is `bytes` long (content does not matter to the gate). */
function updateFrame(address: string, marker: number, bytes = 20): Uint8Array {
  return frame(address, (e) => {
    encoding.writeVarUint(e, 0)
    encoding.writeVarUint(e, 2)
    const update = new Uint8Array(bytes).fill(marker % 256)
    encoding.writeVarUint8Array(e, update)
  })
}

function syncStep2Frame(address: string, update: Uint8Array): Uint8Array {
  return frame(address, (e) => {
    encoding.writeVarUint(e, 0)
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint8Array(e, update)
  })
}

function syncStep1Frame(address: string, stateVectorBytes: number): Uint8Array {
  return frame(address, (e) => {
    encoding.writeVarUint(e, 0)
    encoding.writeVarUint(e, 0)
    encoding.writeVarUint8Array(e, new Uint8Array(stateVectorBytes))
  })
}

function awarenessFrame(address: string, entries: Array<{ client: number; clock: number; state: string }>): Uint8Array {
  const inner = encoding.createEncoder()
  encoding.writeVarUint(inner, entries.length)
  for (const entry of entries) {
    encoding.writeVarUint(inner, entry.client)
    encoding.writeVarUint(inner, entry.clock)
    encoding.writeVarString(inner, entry.state)
  }
  return frame(address, (e) => {
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint8Array(e, encoding.toUint8Array(inner))
  })
}

function harness(limits: Partial<GateLimits> = {}, userOf: (name: string) => string | undefined = () => undefined) {
  const clock = new ManualClock()
  const delivered: Uint8Array[] = []
  const refusals: GateRefusal[] = []
  const socket = {
    paused: false,
    pauses: 0,
    pause() {
      this.paused = true
      this.pauses++
    },
    resume() {
      this.paused = false
    },
    deliver: (f: Uint8Array) => delivered.push(f),
    refuse: (r: GateRefusal) => refusals.push(r),
    userOf,
  }
  const users = new KeyedBuckets<'updates' | 'updateBytes' | 'awareness' | 'awarenessBytes'>(
    {
      updates: DEFAULT_FLOW_LIMITS.updates,
      updateBytes: DEFAULT_FLOW_LIMITS.updateBytes,
      awareness: DEFAULT_FLOW_LIMITS.awareness,
      awarenessBytes: DEFAULT_FLOW_LIMITS.awarenessBytes,
    },
    60_000,
    0,
  )
  const gateLimits = { ...DEFAULT_FLOW_LIMITS, ...limits }
  const makeGate = () => new SocketGate({ userBuckets: (userId, now) => users.get(userId, now), limits: gateLimits, clock, metrics: undefined }, socket)
  return { clock, delivered, refusals, socket, gate: makeGate(), makeGate }
}

const markerOf = (f: Uint8Array) => f.at(-1)

describe('the inbound gate', () => {
  it('delivers a burst at once, then slows to the rate, in order, pausing the socket meanwhile', () => {
    const { clock, delivered, socket, gate } = harness()
    for (let i = 0; i < 80; i++) gate.receive(updateFrame('comments/a', i))
    // The burst (50) passes; the rest waits, the socket paused.
    expect(delivered).toHaveLength(50)
    expect(socket.paused).toBe(true)
    expect(gate.waiting).toBe(30)
    clock.advance(1_000)
    expect(delivered).toHaveLength(60)
    clock.advance(2_000)
    expect(delivered).toHaveLength(80)
    expect(delivered.map(markerOf)).toEqual(Array.from({ length: 80 }, (_, i) => i))
    expect(socket.paused).toBe(false)
    expect(gate.waiting).toBe(0)
  })

  it('keeps frames of other kinds behind waiting updates, and lets empty handshakes pass uncounted', () => {
    const { clock, delivered, gate } = harness({ updates: { perSecond: 10, burst: 2 } })
    for (let i = 0; i < 2; i++) gate.receive(updateFrame('comments/a', i))
    // Empty SyncStep2 frames (handshakes) cost no update token.
    for (let i = 0; i < 5; i++) gate.receive(syncStep2Frame('comments/b', new Uint8Array([0, 0])))
    expect(delivered).toHaveLength(7)
    gate.receive(updateFrame('comments/a', 2))
    const close = frame('comments/a', (e) => encoding.writeVarUint(e, 7))
    gate.receive(close)
    expect(delivered).toHaveLength(7)
    clock.advance(100)
    expect(delivered.slice(7)).toEqual([updateFrame('comments/a', 2), close])
  })

  it('meters bytes: a large update waits for the byte bucket, then leaves it in debt', () => {
    const { clock, delivered, gate } = harness({ updateBytes: { perSecond: 1_000, burst: 2_000 } })
    gate.receive(updateFrame('comments/a', 1, 1_500))
    gate.receive(updateFrame('comments/a', 2, 3_000))
    expect(delivered).toHaveLength(1)
    // The second needs a full bucket (2 000): 1.5 s after the first took 1 500 bytes.
    clock.advance(1_400)
    expect(delivered).toHaveLength(1)
    clock.advance(200)
    expect(delivered).toHaveLength(2)
    // It cost 3 000: the bucket owes 1 000, so even a small update waits a second.
    gate.receive(updateFrame('comments/a', 3, 10))
    expect(delivered).toHaveLength(2)
    clock.advance(1_100)
    expect(delivered).toHaveLength(3)
  })

  it('shares a user’s buckets across sockets once the user is known', () => {
    const { delivered, makeGate } = harness({}, (name) => (name === 'comments/a' ? 'ana' : undefined))
    const first = makeGate()
    const second = makeGate()
    for (let i = 0; i < 30; i++) first.receive(updateFrame('comments/a', i))
    for (let i = 0; i < 30; i++) second.receive(updateFrame('comments/a', 100 + i))
    // Each socket could send 50; together they are one user with a burst of 50.
    expect(delivered).toHaveLength(50)
    expect(second.waiting).toBe(10)
  })

  it('coalesces awareness above its rate: only the latest per document waits, nothing else is slowed', () => {
    const { clock, delivered, socket, gate } = harness({ awareness: { perSecond: 10, burst: 1 } })
    const state = (n: number) => awarenessFrame('comments/a', [{ client: 7, clock: n, state: JSON.stringify({ user: { id: 'ana' }, n }) }])
    gate.receive(state(1))
    for (let n = 2; n <= 20; n++) gate.receive(state(n))
    gate.receive(updateFrame('comments/a', 1))
    expect(delivered).toEqual([state(1), updateFrame('comments/a', 1)])
    expect(socket.paused).toBe(false)
    expect(gate.waiting).toBe(1)
    clock.advance(100)
    expect(delivered).toEqual([state(1), updateFrame('comments/a', 1), state(20)])
  })

  it('drops awareness that speaks for several clients or carries an oversized state, and strips others’ removals', () => {
    const { delivered, gate } = harness()
    gate.receive(
      awarenessFrame('comments/a', [
        { client: 1, clock: 1, state: '{"a":1}' },
        { client: 2, clock: 1, state: '{"b":1}' },
      ]),
    )
    gate.receive(awarenessFrame('comments/a', [{ client: 1, clock: 1, state: JSON.stringify({ x: 'y'.repeat(9_000) }) }]))
    expect(delivered).toHaveLength(0)
    gate.receive(
      awarenessFrame('comments/a', [
        { client: 1, clock: 2, state: '{"a":1}' },
        { client: 2, clock: 5, state: 'null' },
      ]),
    )
    expect(delivered).toEqual([awarenessFrame('comments/a', [{ client: 1, clock: 2, state: '{"a":1}' }])])
    // A provider's own removal (one entry, `null`) passes as it is.
    const leaving = awarenessFrame('comments/a', [{ client: 1, clock: 3, state: 'null' }])
    gate.receive(leaving)
    expect(delivered.at(-1)).toEqual(leaving)
  })

  it('refuses a state vector over the cap, and then ignores the socket', () => {
    const { delivered, refusals, gate } = harness({ maxStateVectorBytes: 1_000 })
    gate.receive(syncStep1Frame('comments/a', 1_000))
    expect(delivered).toHaveLength(1)
    gate.receive(syncStep1Frame('comments/a', 1_001))
    expect(refusals).toEqual([expect.objectContaining({ code: 'too_large', documentName: 'comments/a', address: 'comments/a' })])
    gate.receive(updateFrame('comments/a', 1))
    expect(delivered).toHaveLength(1)
  })

  it('reads a socket more slowly past its read-bytes rate, dropped awareness included, without cutting it', () => {
    const { clock, socket, gate, refusals, delivered } = harness({ readBytes: { perSecond: 10_000, burst: 20_000 } })
    // Awareness frames the gate drops unread (several states) still cost what was read.
    const dropped = awarenessFrame('comments/a', [
      { client: 1, clock: 1, state: `{"pad":"${'x'.repeat(6_000)}"}` },
      { client: 2, clock: 1, state: `{"pad":"${'x'.repeat(6_000)}"}` },
    ])
    gate.receive(dropped)
    expect(socket.paused).toBe(false)
    gate.receive(dropped)
    // Past the burst: paused until the bucket is out of debt (~4 KB at 10 KB/s), then read again.
    expect(socket.paused).toBe(true)
    clock.advance(200)
    expect(socket.paused).toBe(true)
    clock.advance(300)
    expect(socket.paused).toBe(false)
    // The next frame passes at once: a throttle, not a refusal.
    gate.receive(updateFrame('comments/a', 7))
    expect(delivered.map(markerOf)).toEqual([7])
    expect(refusals).toEqual([])
  })

  it('cuts far past the ceiling, and when the queue is full although the socket is paused', () => {
    const ceiling = harness({ ceilingFrames: { perSecond: 10, burst: 100 } })
    for (let i = 0; i < 100; i++) ceiling.gate.receive(awarenessFrame('comments/a', [{ client: 1, clock: i, state: '{}' }]))
    expect(ceiling.refusals).toEqual([])
    ceiling.gate.receive(awarenessFrame('comments/a', [{ client: 1, clock: 101, state: '{}' }]))
    expect(ceiling.refusals).toEqual([expect.objectContaining({ code: 'rate_limited', documentName: null })])

    const queue = harness({ updates: { perSecond: 1, burst: 1 }, maxQueuedFrames: 20 })
    for (let i = 0; i < 21; i++) queue.gate.receive(updateFrame('comments/a', i))
    expect(queue.refusals).toEqual([])
    expect(queue.gate.waiting).toBe(20)
    queue.gate.receive(updateFrame('comments/a', 99))
    expect(queue.refusals).toEqual([expect.objectContaining({ code: 'rate_limited' })])
    // Cut: nothing waiting is delivered afterwards (none of it was acknowledged).
    queue.clock.advance(60_000)
    expect(queue.delivered).toHaveLength(1)
  })

  it('drops everything after the socket closed, and its timers do nothing', () => {
    const { clock, delivered, gate } = harness({ updates: { perSecond: 1, burst: 1 } })
    gate.receive(updateFrame('comments/a', 1))
    gate.receive(updateFrame('comments/a', 2))
    gate.close()
    clock.advance(10_000)
    gate.receive(updateFrame('comments/a', 3))
    expect(delivered).toHaveLength(1)
  })
})

describe('frames, buckets and refusal backoff', () => {
  it('reads the header without decoding the payload', () => {
    expect(classifyFrame(updateFrame('comments/a\0s1', 1))).toMatchObject({
      kind: 'update',
      address: 'comments/a\0s1',
      documentName: 'comments/a',
      counts: true,
    })
    expect(classifyFrame(syncStep2Frame('comments/a', new Uint8Array([0, 0])))).toMatchObject({ kind: 'update', counts: false })
    expect(classifyFrame(syncStep1Frame('comments/a', 300))).toMatchObject({ kind: 'syncStep1', stateVectorBytes: 300 })
    expect(classifyFrame(frame('comments/a', (e) => encoding.writeVarUint(e, 4)))).toMatchObject({ kind: 'control' })
    expect(classifyFrame(new Uint8Array([0x0a]))).toEqual({ kind: 'control', address: null, documentName: null, bytes: 1 })
    expect(checkAwareness(new Uint8Array([0x01, 0x61, 0x01, 0x05, 0x01]), { maxStateBytes: 10, maxStates: 1, maxEntries: 4 })).toEqual({
      ok: false,
      error: 'malformed',
    })
  })

  it('reads the code of an outgoing refused authentication or parley.error, and nothing else', () => {
    const denied = frame('comments/a\0s1', (e) => {
      encoding.writeVarUint(e, 2)
      encoding.writeVarUint(e, 1)
      encoding.writeVarString(e, 'storage_unavailable: retry later')
    })
    expect(outgoingRefusal(denied)).toEqual({ kind: 'permissionDenied', documentName: 'comments/a', code: 'storage_unavailable' })
    const told = statelessFrame('comments/a', JSON.stringify({ type: 'parley.error', code: 'write_rejected', reason: 'x', documentName: 'comments/a' }))
    expect(outgoingRefusal(told)).toEqual({ kind: 'parleyError', documentName: 'comments/a', code: 'write_rejected' })
    expect(outgoingRefusal(statelessFrame('comments/a', 'not json'))).toBeNull()
    expect(outgoingRefusal(statelessFrame('comments/a', '{"type":"other"}'))).toBeNull()
    expect(outgoingRefusal(updateFrame('comments/a', 1))).toBeNull()
  })

  it('token buckets wait, refill, take debts, and keyed buckets are forgotten when idle and full', () => {
    const buckets = new Buckets(new BucketLayout({ a: { perSecond: 10, burst: 5 }, b: { perSecond: 1, burst: 2 } }), 0)
    for (let i = 0; i < 5; i++) expect(buckets.tryTake('a', 1, 0)).toBe(true)
    expect(buckets.waitMs('a', 1, 0)).toBe(100)
    expect(buckets.waitMs('a', 0, 0)).toBe(0)
    expect(buckets.waitMs('a', 1, 100)).toBe(0)
    // Each bucket of a set keeps its own tokens; a cost above the burst waits for a full bucket, then leaves a debt.
    expect(buckets.waitMs('b', 1, 0)).toBe(0)
    buckets.take('b', 5, 0)
    expect(buckets.waitMs('b', 1, 0)).toBe(4_000)
    expect(buckets.isFull(0)).toBe(false)
    expect(buckets.isFull(5_000)).toBe(true)
    const keyed = new KeyedBuckets<'a'>({ a: { perSecond: 1, burst: 1 } }, 1_000, 0)
    keyed.get('ana', 0).take('a', 1, 0)
    keyed.get('ben', 0)
    expect(keyed.size).toBe(2)
    keyed.get('cy', 5_000)
    expect(keyed.size).toBe(1)
  })

  it('scales the byte rate with an update rate raised above the default, never below the default', () => {
    expect(scaledUpdateBytes(undefined)).toEqual(DEFAULT_FLOW_LIMITS.updateBytes)
    expect(scaledUpdateBytes({ perSecond: 1, burst: 5 })).toEqual(DEFAULT_FLOW_LIMITS.updateBytes)
    expect(scaledUpdateBytes({ perSecond: 100, burst: 100 })).toEqual({
      perSecond: DEFAULT_FLOW_LIMITS.updateBytes.perSecond * 10,
      burst: DEFAULT_FLOW_LIMITS.updateBytes.burst * 2,
    })
  })

  it('holds repeated refusals longer each time, and forgets them', () => {
    const backoff = new RefusalBackoff({ baseMs: 1_000, maxMs: 5_000, forgetMs: 60_000 }, 0)
    expect([0, 1, 2, 3, 4, 5].map((i) => backoff.holdMs('k', i * 10))).toEqual([0, 1_000, 2_000, 4_000, 5_000, 5_000])
    expect(backoff.holdMs('other', 100)).toBe(0)
    expect(backoff.holdMs('k', 70_000)).toBe(0)
    expect(backoff.size).toBe(1)
  })
})
