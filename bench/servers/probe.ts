/**
 * Preloaded (`node --import`) into every bench server process, whatever it is: answers the
 * bench over the IPC channel (event-loop delay, garbage collection, RSS), and stops the server
 * when the bench goes away so that no server outlives it.
 */
import { subscribe } from 'node:diagnostics_channel'
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import type { Server } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'

/** Resolution of the event-loop delay histogram, in ms. */
const LOOP_RESOLUTION_MS = 10

export type ProbeRequest = { id: number; op: 'gc' | 'loop-reset' | 'loop' }

/**
 * Sent once for every TCP port the server process starts listening on: servers bind port 0 and the
 * bench learns the port from here, so that no other process can take it between a choice and a bind.
 */
export interface ProbeListening {
  listening: number
}

export interface ProbeReply {
  id: number
  rssBytes: number
  /** JS heap in use (after the forced GC when the op is `gc`): RSS growth with a flat heap is native memory. */
  heapUsedBytes: number
  /** Memory V8 holds for the JS heap (used or not): RSS can grow while the heap in use stays flat. */
  heapTotalBytes: number
  /** Memory outside the JS heap that JS objects own (Buffers, ArrayBuffers, native addons that report it). */
  externalBytes: number
  /** Event-loop delay since the last reset, in ms (beyond the histogram's own timer period). */
  loop: { p50: number; p99: number; max: number }
}

const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
loop.enable()

/** A histogram value (ns, timer period included) as the delay beyond the period, in ms. */
function delayMs(nanoseconds: number): number {
  return Math.max(0, nanoseconds / 1e6 - LOOP_RESOLUTION_MS)
}

/** Mean bytes between two allocation samples (V8's default is 32 KiB; finer costs more). */
const ALLOCATION_SAMPLING_BYTES = 16_384

function collectGarbage(): void {
  const gc: unknown = Reflect.get(globalThis, 'gc')
  if (typeof gc === 'function') {
    gc()
    gc()
  }
}

/** Waits for the profiling window (`BENCH_CPU_PROFILE_AFTER_MS`, default 20 s: past start-up and warm-up), runs `record` on an inspector session for `BENCH_CPU_PROFILE_FOR_MS` (default 15 s) and writes what it returns to `file`. */
async function profileWindow(file: string, record: (session: Session, duration: Promise<void>) => Promise<object>): Promise<void> {
  const after = Number(process.env.BENCH_CPU_PROFILE_AFTER_MS ?? 20_000)
  const duration = Number(process.env.BENCH_CPU_PROFILE_FOR_MS ?? 15_000)
  await new Promise((resolve) => setTimeout(resolve, after).unref())
  const session = new Session()
  session.connect()
  const profile = await record(session, new Promise((resolve) => setTimeout(resolve, duration).unref()))
  writeFileSync(file, JSON.stringify(profile))
  session.disconnect()
}

/**
 * `BENCH_CPU_PROFILE=<file>`: a CPU profile of the server over the profiling window, written to the
 * file (open it in Chrome DevTools). Through the inspector, so it does not depend on a clean exit.
 */
const cpuProfile = process.env.BENCH_CPU_PROFILE
if (cpuProfile) {
  void profileWindow(cpuProfile, async (session, window) => {
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
    await window
    return (await session.post('Profiler.stop')).profile
  }).catch((error: unknown) => console.error('cpu profile failed', error))
}

/**
 * `BENCH_ALLOCATION_PROFILE=<file>`: where the server allocates over the same window: V8's
 * sampling heap profiler with the objects garbage collection already took kept in, so short-lived
 * garbage (what minor GCs cost) shows; a `.heapprofile` (Chrome DevTools, Memory tab).
 */
const allocationProfile = process.env.BENCH_ALLOCATION_PROFILE
if (allocationProfile) {
  void profileWindow(allocationProfile, async (session, window) => {
    await session.post('HeapProfiler.enable')
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: ALLOCATION_SAMPLING_BYTES,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    })
    await window
    return (await session.post('HeapProfiler.stopSampling')).profile
  }).catch((error: unknown) => console.error('allocation profile failed', error))
}

function isRequest(message: unknown): message is ProbeRequest {
  return typeof message === 'object' && message !== null && 'id' in message && 'op' in message
}

if (process.send) {
  // Node publishes every completed `server.listen()` on this channel, whatever module called it.
  subscribe('tracing:net.server.listen:asyncEnd', (message) => {
    const address = (message as { server?: Server }).server?.address()
    if (address && typeof address === 'object') process.send?.({ listening: address.port } satisfies ProbeListening)
  })
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return
    if (message.op === 'gc') collectGarbage()
    if (message.op === 'loop-reset') loop.reset()
    const memory = process.memoryUsage()
    const reply: ProbeReply = {
      id: message.id,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      loop: { p50: delayMs(loop.percentile(50)), p99: delayMs(loop.percentile(99)), max: delayMs(loop.max) },
    }
    process.send?.(reply)
  })
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'))
  process.channel?.unref()
}
