/**
 * The awareness fan-out is coalesced per document: one frame per window, every final state
 * delivered, heartbeats renewed often enough but batched, document updates never held back.
 *
 * Timing is scaled down where the real values would take minutes: the server takes the window,
 * renewal interval and silence timeout as options (extensions/presence), and these tests pass
 * values 25 times smaller than the defaults (renewal 10 s → 400 ms, y-protocols' 30 s expiry
 * → 1.2 s, the provider's 15 s heartbeat → 600 ms), so six seconds stand for two and a half minutes.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createThread, readThreads } from '../../protocol/index.ts'
import { AwarenessPeer, presenceState } from '../helpers/awareness.ts'
import { connectSynced, type TestClient } from '../helpers/provider.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const NAME = 'comments/presence-coalescing'
/** The scale of these tests: 1/25 of the real timings. */
const SCALE = 25
const RENEW_MS = 10_000 / SCALE
const EXPIRY_MS = 30_000 / SCALE
const HEARTBEAT_MS = 15_000 / SCALE

describe('coalesced awareness fan-out', () => {
  let s: TestServer | undefined
  const peers: AwarenessPeer[] = []
  const clients: TestClient[] = []
  afterEach(async () => {
    for (const p of peers.splice(0)) p.close()
    for (const c of clients.splice(0)) c.destroy()
    await s?.dispose()
    s = undefined
  })

  async function peer(server: TestServer, userId: string): Promise<AwarenessPeer> {
    const p = await AwarenessPeer.connect(server.server.webSocketUrl, NAME, await server.token(userId))
    peers.push(p)
    return p
  }

  it('delivers every final state, in far fewer frames than states sent', async () => {
    const windowMs = 150
    s = await startServer({ presence: { windowMs } })
    const observer = await peer(s, 'observer')
    const senders = await Promise.all(Array.from({ length: 20 }, (_, i) => peer(s as TestServer, `sender-${i}`)))
    const started = Date.now()
    // 20 senders × 30 changes, one message every 2 ms (pacing the load, not waiting for anything):
    // relayed as they come, that would be hundreds of frames.
    for (let round = 1; round <= 30; round++) {
      for (const [i, sender] of senders.entries()) {
        sender.send({ clientId: 1000 + i, clock: round, state: presenceState(`sender-${i}`, { typing: { threadId: 't1', at: round } }) })
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    }
    const finalOf = (i: number) => ({ clientId: 1000 + i, state: presenceState(`sender-${i}`, { typing: { threadId: 't1', at: 30 } }) })
    await waitFor(
      () => senders.every((_, i) => JSON.stringify(observer.latest(finalOf(i).clientId)) === JSON.stringify(finalOf(i).state)),
      'every final state reaches the observer',
    )
    const elapsed = Date.now() - started
    const frames = observer.frames.filter((f) => f.at >= started).length
    // At most one frame per window (and one for a window that was open at the start).
    expect(frames).toBeLessThanOrEqual(Math.ceil(elapsed / windowMs) + 1)
    expect(frames).toBeLessThan(600 / 10)
  })

  it('never holds back document updates', async () => {
    const windowMs = 2_000
    s = await startServer({ presence: { windowMs } })
    const token = await s.token('ana')
    const writer = await connectSynced(s.server.webSocketUrl, NAME, token)
    const reader = await connectSynced(s.server.webSocketUrl, NAME, await s.token('ben'))
    clients.push(writer, reader)
    const start = Date.now()
    writer.provider.setAwarenessField('user', { id: 'ana', name: 'Ana' })
    createThread({ doc: writer.doc, userId: 'ana' }, 'hello')
    await waitFor(() => readThreads(reader.doc).length === 1, 'the comment arrives')
    const commentMs = Date.now() - start
    await waitFor(
      () => [...(reader.provider.awareness?.getStates().values() ?? [])].some((st) => (st.user as { id?: string } | undefined)?.id === 'ana'),
      'the awareness arrives',
      5_000,
    )
    const awarenessMs = Date.now() - start
    expect(commentMs).toBeLessThan(windowMs / 2)
    expect(awarenessMs).toBeGreaterThanOrEqual(windowMs - 50)
  })

  it('keeps a heartbeat-only client present for minutes (scaled), renewing at most once per interval', async () => {
    s = await startServer({ presence: { windowMs: 50, renewMs: RENEW_MS, timeoutMs: EXPIRY_MS, sweepMs: 100 } })
    const observer = await peer(s, 'observer')
    const steady = await peer(s, 'steady')
    const eager = await peer(s, 'eager')
    const run = 6_000
    const started = Date.now()
    let steadyClock = 0
    let eagerClock = 0
    steady.send({ clientId: 2001, clock: ++steadyClock, state: presenceState('steady') })
    eager.send({ clientId: 2002, clock: ++eagerClock, state: presenceState('eager') })
    // The provider's heartbeat period (scaled), and a client that heartbeats twelve times as often.
    const steadyTimer = setInterval(() => steady.send({ clientId: 2001, clock: ++steadyClock, state: presenceState('steady') }), HEARTBEAT_MS)
    const eagerTimer = setInterval(() => eager.send({ clientId: 2002, clock: ++eagerClock, state: presenceState('eager') }), HEARTBEAT_MS / 12)
    try {
      await waitFor(() => Date.now() - started >= run, 'the run is over', run + 1_000)
    } finally {
      clearInterval(steadyTimer)
      clearInterval(eagerTimer)
    }
    for (const clientId of [2001, 2002]) {
      const entries = observer.entriesOf(clientId)
      expect(
        entries.every((e) => e.state !== null),
        `client ${clientId} never removed`,
      ).toBe(true)
      // A y-protocols receiver drops a state not renewed within its expiry: every gap stays below it.
      const times = [started, ...entries.map((e) => e.at), Date.now()]
      const gaps = times.slice(1).map((at, i) => at - (times[i] ?? at))
      expect(Math.max(...gaps), `longest gap between renewals of ${clientId}`).toBeLessThan(EXPIRY_MS)
      // Clocks grow with each renewal, so that receivers accept them.
      expect(entries.every((e, i) => i === 0 || e.clock > (entries[i - 1]?.clock ?? 0))).toBe(true)
    }
    // The eager client sent ~144 heartbeats: at most one per renewal interval went out.
    expect(eagerClock).toBeGreaterThan(100)
    expect(observer.entriesOf(2002).length).toBeLessThanOrEqual(Math.ceil(run / RENEW_MS) + 2)
  })

  it('removes a client that falls silent within the configured timeout, and one that disconnects within a window', async () => {
    const timeoutMs = 600
    s = await startServer({ presence: { windowMs: 50, renewMs: 200, timeoutMs, sweepMs: 50 } })
    const observer = await peer(s, 'observer')
    const silent = await peer(s, 'silent')
    const leaving = await peer(s, 'leaving')
    silent.send({ clientId: 3001, clock: 1, state: presenceState('silent') })
    leaving.send({ clientId: 3002, clock: 1, state: presenceState('leaving') })
    await waitFor(() => observer.latest(3001) !== undefined && observer.latest(3002) !== undefined, 'both states arrive')
    const seenAt = Date.now()
    leaving.close()
    await waitFor(() => observer.latest(3002) === null, 'the disconnected client is removed', 2_000)
    await waitFor(() => observer.latest(3001) === null, 'the silent client is removed', 3_000)
    const removedAfter = (observer.entriesOf(3001).at(-1)?.at ?? 0) - seenAt
    expect(removedAfter).toBeGreaterThanOrEqual(timeoutMs - 100)
    // Timeout, plus at most a sweep period and a window (and slack for a loaded machine).
    expect(removedAfter).toBeLessThan(timeoutMs + 1_000)
  })

  it('keeps the newest state when a client’s messages arrive out of order', async () => {
    s = await startServer({ presence: { windowMs: 300 } })
    const observer = await peer(s, 'observer')
    const ana = await peer(s, 'ana')
    // A provider sends what it queued before connecting after what it sent on connecting.
    ana.send({ clientId: 6001, clock: 5, state: presenceState('ana', { typing: { threadId: 't1', at: 5 } }) })
    ana.send({ clientId: 6001, clock: 4, state: presenceState('ana') })
    await waitFor(() => observer.latest(6001) !== undefined, 'ana arrives')
    // A later window, carrying a barrier state of another client of the same connection.
    ana.send({ clientId: 6002, clock: 1, state: presenceState('ana') })
    await waitFor(() => observer.latest(6002) !== undefined, 'the barrier arrives')
    expect(observer.latest(6001)).toEqual(presenceState('ana', { typing: { threadId: 't1', at: 5 } }))
  })

  it('reads `{}` from the owning connection as leaving presence, and ignores it from another', async () => {
    s = await startServer({ presence: { windowMs: 50 } })
    const observer = await peer(s, 'observer')
    const ana = await peer(s, 'ana')
    const mallory = await peer(s, 'mallory')
    ana.send({ clientId: 4001, clock: 1, state: presenceState('ana') })
    await waitFor(() => observer.latest(4001) !== undefined, 'ana arrives')
    // A forged `{}` with a huge clock neither removes ana nor makes her later states look old.
    mallory.send({ clientId: 4001, clock: 1_000_000, state: {} })
    mallory.send({ clientId: 4002, clock: 1, state: presenceState('mallory') })
    await waitFor(() => observer.latest(4002) !== undefined, 'mallory’s own state arrives (a barrier)')
    expect(observer.latest(4001)).toEqual(presenceState('ana'))
    ana.send({ clientId: 4001, clock: 2, state: presenceState('ana', { status: 'idle' }) })
    await waitFor(() => observer.latest(4001)?.status === 'idle', 'ana’s next state still goes through')
    ana.send({ clientId: 4001, clock: 3, state: {} })
    await waitFor(() => observer.latest(4001) === null, 'ana leaves presence')
  })
})
