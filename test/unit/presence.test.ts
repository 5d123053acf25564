/**
 * extensions/presence: the awareness coalescer (coalescer.ts) against a real y-protocols Awareness,
 * windows flushed by hand (or by fake timers), and the clocks read from raw frames (clocks.ts).
 */
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { applyAwarenessUpdate, Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { awarenessClocks } from '../../core/presence/clocks.ts'
import { PRESENCE_ORIGIN } from '../../core/origins.ts'
import { AwarenessCoalescer, type CoalescerTiming, type WindowReport } from '../../core/presence/coalescer.ts'

const TIMING: CoalescerTiming = { windowMs: 150, renewMs: 10_000, timeoutMs: 30_000 }
const T = 1_700_000_000_000

interface Harness {
  awareness: Awareness
  coalescer: AwarenessCoalescer
  windows: WindowReport[]
  /** Awareness updates the coalescer applied: what Hocuspocus would broadcast, one frame each. */
  frames: Array<{ added: number[]; updated: number[]; removed: number[] }>
  receive(socketId: string, states: Record<number, Record<string, unknown>>, now: number, clocks?: Record<number, number>): number
}

function harness(timing: CoalescerTiming = TIMING): Harness {
  const doc = new Y.Doc()
  const awareness = new Awareness(doc)
  awareness.setLocalState(null)
  const windows: WindowReport[] = []
  const frames: Harness['frames'] = []
  awareness.on('update', (change: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
    if (origin === PRESENCE_ORIGIN) frames.push(change)
  })
  const coalescer = new AwarenessCoalescer(
    { awareness, isDestroyed: false },
    timing,
    (report) => windows.push(report),
    (error) => {
      throw error
    },
  )
  const h: Harness = {
    awareness,
    coalescer,
    windows,
    frames,
    receive: (socketId, states, now, clocks) => {
      const map = new Map(Object.entries(states).map(([id, state]) => [Number(id), state]))
      const absorbed = coalescer.receive(socketId, map, now, clocks && new Map(Object.entries(clocks).map(([id, clock]) => [Number(id), clock])))
      // The states are taken out of the message: Hocuspocus applies and broadcasts nothing itself.
      expect(map.size).toBe(0)
      return absorbed
    },
  }
  onTestFinished(() => {
    coalescer.destroy()
    awareness.destroy()
  })
  return h
}

afterEach(() => {
  vi.useRealTimers()
})

const user = (id: string, extra: Record<string, unknown> = {}) => ({ user: { id, name: id }, status: 'active', typing: null, ...extra })

describe('PROTOCOL §Presence: the awareness fan-out, once per window', () => {
  it('holds changes back until the window, then sends the latest state of each client in one frame', () => {
    const h = harness()
    h.receive('s1', { 1: user('ana') }, T)
    h.receive('s1', { 1: user('ana', { status: 'idle' }) }, T + 10)
    h.receive('s2', { 2: user('ben') }, T + 20)
    expect(h.awareness.getStates().size).toBe(0)
    h.coalescer.flush(T + 150)
    expect(h.frames).toEqual([{ added: [1, 2], updated: [], removed: [] }])
    expect(h.awareness.getStates().get(1)).toMatchObject({ status: 'idle' })
    expect(h.windows).toEqual([{ states: 2, removals: 0 }])
  })

  it('goes out by itself after windowMs', () => {
    vi.useFakeTimers({ now: T })
    const h = harness()
    h.receive('s1', { 1: user('ana') }, Date.now())
    vi.advanceTimersByTime(TIMING.windowMs - 1)
    expect(h.frames).toHaveLength(0)
    vi.advanceTimersByTime(1)
    expect(h.frames).toHaveLength(1)
  })

  it('forwards a client’s state with the previous forwarded clock + 1', () => {
    const h = harness()
    h.receive('s1', { 1: user('ana') }, T, { 1: 7 })
    h.coalescer.flush(T + 150)
    expect(h.awareness.meta.get(1)?.clock).toBe(1)
    h.receive('s1', { 1: user('ana', { status: 'idle' }) }, T + 200, { 1: 9 })
    h.coalescer.flush(T + 350)
    expect(h.awareness.meta.get(1)?.clock).toBe(2)
  })

  it('absorbs heartbeats (an unchanged state) within renewMs, and forwards one after it', () => {
    const h = harness()
    h.receive('s1', { 1: user('ana') }, T, { 1: 1 })
    h.coalescer.flush(T + 150)
    expect(h.receive('s1', { 1: user('ana') }, T + 5_000, { 1: 2 })).toBe(1)
    h.coalescer.flush(T + 5_150)
    expect(h.frames).toHaveLength(1)
    expect(h.receive('s1', { 1: user('ana') }, T + 150 + TIMING.renewMs, { 1: 3 })).toBe(0)
    h.coalescer.flush(T + 300 + TIMING.renewMs)
    expect(h.frames).toHaveLength(2)
    expect(h.frames[1]).toEqual({ added: [], updated: [1], removed: [] })
  })

  it('drops a state whose clock is not newer than one already received (a queued message sent late)', () => {
    const h = harness()
    h.receive('s1', { 1: user('ana', { status: 'idle' }) }, T, { 1: 5 })
    h.receive('s1', { 1: user('ana', { status: 'active' }) }, T + 1, { 1: 4 })
    h.receive('s1', { 1: user('ana', { status: 'active' }) }, T + 2, { 1: 5 })
    h.coalescer.flush(T + 150)
    expect(h.awareness.getStates().get(1)).toMatchObject({ status: 'idle' })
  })
})

describe('PROTOCOL §Presence: removals go out in the next window', () => {
  it('removes a client that sets {} on its own connection, at the clock last forwarded', () => {
    const h = harness()
    h.receive('s1', { 1: user('ana') }, T, { 1: 1 })
    h.coalescer.flush(T + 150)
    h.receive('s1', { 1: {} }, T + 200, { 1: 2 })
    h.coalescer.flush(T + 350)
    expect(h.frames[1]).toEqual({ added: [], updated: [], removed: [1] })
    expect(h.awareness.getStates().has(1)).toBe(false)
    expect(h.windows[1]).toEqual({ states: 0, removals: 1 })
  })

  it('ignores {} for a client id from a connection that does not own it', () => {
    const h = harness()
    h.receive('s1', { 1: user('ana') }, T)
    h.coalescer.flush(T + 150)
    h.receive('s2', { 1: {} }, T + 200)
    h.coalescer.flush(T + 350)
    expect(h.awareness.getStates().has(1)).toBe(true)
    expect(h.frames).toHaveLength(1)
  })

  it('removes every client of a connection that closed', () => {
    const h = harness()
    h.receive('s1', { 1: user('ana'), 3: user('ana') }, T)
    h.receive('s2', { 2: user('ben') }, T)
    h.coalescer.flush(T + 150)
    h.coalescer.disconnect('s1')
    h.coalescer.flush(T + 300)
    expect([...h.awareness.getStates().keys()]).toEqual([2])
    expect(h.coalescer.size).toBe(1)
  })

  it('removes clients silent for longer than timeoutMs', () => {
    const h = harness()
    h.receive('s1', { 1: user('ana') }, T)
    h.receive('s2', { 2: user('ben') }, T + 20_000)
    h.coalescer.flush(T + 20_150)
    h.coalescer.sweep(T + TIMING.timeoutMs)
    h.coalescer.flush(T + TIMING.timeoutMs)
    expect(h.awareness.getStates().has(1)).toBe(true)
    h.coalescer.sweep(T + TIMING.timeoutMs + 1)
    h.coalescer.flush(T + TIMING.timeoutMs + 1)
    expect([...h.awareness.getStates().keys()]).toEqual([2])
  })

  it('drops a change and its removal within one window without sending either', () => {
    const h = harness()
    h.receive('s1', { 1: user('ana') }, T)
    h.coalescer.disconnect('s1')
    h.coalescer.flush(T + 150)
    expect(h.frames).toEqual([])
    expect(h.windows).toEqual([])
  })
})

/** A Hocuspocus frame: document name, message type, payload. */
function frame(type: number, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, 'comments/s1')
  encoding.writeVarUint(encoder, type)
  encoding.writeVarUint8Array(encoder, payload)
  return encoding.toUint8Array(encoder)
}

describe('PROTOCOL §Awareness payload: clocks read from the raw frame', () => {
  it('reads each client’s clock from an awareness frame', () => {
    const a = new Awareness(new Y.Doc())
    const b = new Awareness(new Y.Doc())
    try {
      a.setLocalState(user('ana'))
      a.setLocalState(user('ana', { status: 'idle' }))
      b.setLocalState(user('ben'))
      // a relays b's state too: one frame, two clients, two clocks.
      applyAwarenessUpdate(a, encodeAwarenessUpdate(b, [b.clientID]), 'remote')
      const clocks = awarenessClocks(frame(1, encodeAwarenessUpdate(a, [a.clientID, b.clientID])))
      expect(clocks).toEqual(
        new Map([
          [a.clientID, a.meta.get(a.clientID)!.clock],
          [b.clientID, b.meta.get(b.clientID)!.clock],
        ]),
      )
      expect(clocks?.get(a.clientID)).toBeGreaterThan(clocks?.get(b.clientID) ?? Infinity)
    } finally {
      a.destroy()
      b.destroy()
    }
  })

  it('answers null for other message types and for bytes that are not a frame', () => {
    expect(awarenessClocks(frame(0, new Uint8Array([0, 0])))).toBeNull()
    expect(awarenessClocks(new Uint8Array([200, 1]))).toBeNull()
    expect(awarenessClocks(frame(1, new Uint8Array([5, 1])))).toBeNull()
  })
})
