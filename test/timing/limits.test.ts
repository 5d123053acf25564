/**
 * Flow control under a flood, slow readers and connection throttling. These measure time, so
 * `npm test` runs test/timing/ on its own, after the rest of the suite (and they share this file so
 * that they never run at the same time as each other).
 *
 * The flood: a flooder next to an honest client, at the default limits (10 updates/s, bursts of
 * 50). The flooder, a standard provider in its own process, writes valid comments as fast as its
 * socket takes them during ten flooded windows (about 10 s in all), interleaved with unloaded
 * ones so that whatever else the machine does weighs on both alike. The server reads the flooder
 * more slowly instead of refusing it: the honest client's delivery p95 (median of windows) stays
 * within 1.5× of unloaded plus a measured noise allowance, the flooder's applied rate is its limit, nothing is refused, the server's RSS stays
 * bounded, and everything acknowledged to the flooder is there after a kill -9 and a restart.
 */
import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type * as Y from 'yjs'
import type { FlooderReport } from '../../bench/lib/flooder.ts'
import { createThread, readThreads, reply, threadsMap } from '../../protocol/index.ts'
import { UPDATE_BURST, UPDATES_PER_SECOND } from '../../server/flow/limits.ts'
import { ROOT, startChild, type ChildServer } from '../helpers/child.ts'
import { authFrame } from '../helpers/frames.ts'
import { rawClient, type RawClient } from '../helpers/raw.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'
import { p95, windowedP95 } from './stats.ts'

/** Windows of each kind (unloaded, flooded), alternating: short and many, so that bursts of other work on the machine fall on both kinds alike. */
const WINDOWS = 10
/** Comments the honest writer sends per window, one every {@link WRITE_INTERVAL_MS} (8/s, under its own limit): 10 × 1 s flooded. */
const SAMPLES = 8
const WRITE_INTERVAL_MS = 125
/**
 * Margins from measured spread (issue 24). The statistic is the median over the 10 windows of each
 * window's p95 (`windowedP95`): a burst of other work that falls on one or two windows moves a
 * pooled p95 a lot (pooled flooded/unloaded ratios of 0.86–2.72 in the runs below) and the median
 * hardly at all, while a slowdown the flood causes falls on every flooded window. 20 runs on
 * 2026-12-04 on the shared two-core machine under heavy load (load average 6–11: other engineers'
 * test suites and benchmarks) gave unloaded medians of 9.1–67.9 ms and flooded ones of
 * 9.0–95.9 ms, ratios 0.58–1.78; the largest excess over 1.5× of unloaded (floored at
 * {@link NOISE_FLOOR_MS}) was 14.1 ms (unloaded 50.6, flooded 90.0). So the limit is 1.5× of the
 * unloaded median (at least the floor) plus {@link SPREAD_ALLOWANCE_MS}, that excess with a
 * margin. On a quiet machine both medians are 5–8 ms. To re-measure: run
 * `npx vitest run test/timing/limits.test.ts --silent=false` 20 times, read the
 * `honest delivery p95 (median of windows)` lines, and set the allowance above the largest
 * `flooded − 1.5 × max(unloaded, floor)`.
 */
const NOISE_FLOOR_MS = 8
const SPREAD_ALLOWANCE_MS = 16
/** The bound stated for the server's memory under the flood: its RSS grows by less than this. */
const RSS_GROWTH_BOUND_BYTES = 64 * 1024 * 1024
/** Comments the flooder prepares: more than its socket takes in ten seconds at any rate the server allows. */
const FLOODER_COMMENTS = 40_000

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1] ?? 0) * 1024
}

describe('a flooder next to an honest client', () => {
  const children: ChildServer[] = []
  const clients: RawClient[] = []
  const dirs: string[] = []
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy()
    for (const c of children.splice(0)) c.process.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('slows the flooder to its rate; the honest p95 stays within 1.5× of unloaded; nothing acknowledged is lost', async () => {
    const secret = newSecret()
    const dataDir = tempDir()
    dirs.push(dataDir)
    const env = {
      PARLEY_DATA_DIR: dataDir,
      PARLEY_JWT_SECRET: secret,
      PARLEY_UPDATES_PER_SECOND: String(UPDATES_PER_SECOND),
      PARLEY_UPDATE_BURST: String(UPDATE_BURST),
    }
    const server = await startChild(env)
    children.push(server)
    const pid = server.process.pid!
    const name = 'comments/flood'
    const writer = await rawClient(server.webSocketUrl, name, await tokenFor(secret, 'writer'))
    const observer = await rawClient(server.webSocketUrl, name, await tokenFor(secret, 'observer'))
    clients.push(writer, observer)
    const { threadId } = createThread({ doc: writer.doc, userId: 'writer' }, 'start')
    await waitFor(() => threadsMap(observer.doc).has(threadId), 'observer sees the thread')

    const sentAt = new Map<string, number>()
    const latencies: number[] = []
    observer.doc.on('update', () => {
      const comments = threadsMap(observer.doc).get(threadId)?.get('comments') as Y.Array<Y.Map<unknown>> | undefined
      for (const comment of comments?.toArray() ?? []) {
        const id = comment.get('id') as string
        const at = sentAt.get(id)
        if (at !== undefined) {
          latencies.push(performance.now() - at)
          sentAt.delete(id)
        }
      }
    })
    let rssMax = 0
    const phase = async (label: string): Promise<number[]> => {
      latencies.length = 0
      for (let i = 0; i < SAMPLES; i++) {
        const id = `${label}-${i}`
        sentAt.set(id, performance.now())
        reply({ doc: writer.doc, userId: 'writer', newId: () => id }, threadId, `sample ${i}`)
        rssMax = Math.max(rssMax, rssOf(pid))
        await new Promise((resolve) => setTimeout(resolve, WRITE_INTERVAL_MS))
      }
      await waitFor(() => sentAt.size === 0, `${label}: every sample delivered`)
      return [...latencies]
    }

    // At the lowest CPU priority: on a shared two-core machine it stands for a client elsewhere,
    // so that its own work (Yjs transactions) does not compete with the server and the measurement.
    const flooderArgs = [
      process.execPath,
      path.join(ROOT, 'bench/lib/flooder.ts'),
      server.webSocketUrl,
      await tokenFor(secret, 'flooder'),
      name,
      'flooder',
      String(FLOODER_COMMENTS),
    ]
    const flooder = spawn('nice', ['-n', '19', ...flooderArgs], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
    let flooderOut = ''
    flooder.stdout.on('data', (d: Buffer) => (flooderOut += d.toString()))
    flooder.stderr.on('data', (d: Buffer) => (flooderOut += d.toString()))
    await waitFor(() => flooderOut.includes('ready'), 'the flooder is connected', 20_000)
    const rssBefore = rssOf(pid)
    const unloadedWindows: number[][] = []
    const floodedWindows: number[][] = []
    for (let w = 0; w < WINDOWS; w++) {
      unloadedWindows.push(await phase(`unloaded-${w}`))
      flooder.stdin.write('flood\n')
      floodedWindows.push(await phase(`flooded-${w}`))
      flooder.stdin.write('pause\n')
    }
    const unloaded = unloadedWindows.flat()
    const flooded = floodedWindows.flat()
    flooder.stdin.write('exit\n')
    await waitFor(() => flooderOut.includes('}'), 'the flooder reports', 20_000)
    const report = JSON.parse(flooderOut.trim().split('\n').at(-1)!) as FlooderReport
    // From its first acknowledgement to its last: the burst, then the sustained rate (the backlog
    // waiting in the socket keeps it busy through the unloaded windows too).
    const appliedRate = (report.acknowledged - UPDATE_BURST) / ((report.lastAckAt - report.firstAckAt) / 1000)
    const honest = { unloaded: windowedP95(unloadedWindows), flooded: windowedP95(floodedWindows) }
    const limit = 1.5 * Math.max(honest.unloaded, NOISE_FLOOR_MS) + SPREAD_ALLOWANCE_MS
    console.log(
      `honest delivery p95 (median of windows): unloaded ${honest.unloaded.toFixed(1)} ms, flooded ${honest.flooded.toFixed(1)} ms (limit ${limit.toFixed(1)} ms); ` +
        `pooled p95: unloaded ${p95(unloaded).toFixed(1)} ms, flooded ${p95(flooded).toFixed(1)} ms; ` +
        `flooder sent ${report.sent}, acknowledged ${report.acknowledged} (${appliedRate.toFixed(1)}/s past the burst), refusals ${report.refusals}, closes ${report.closes}; ` +
        `server RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${(rssMax / 2 ** 20).toFixed(0)} MiB at most`,
    )

    expect(unloaded).toHaveLength(SAMPLES * WINDOWS)
    expect(flooded).toHaveLength(SAMPLES * WINDOWS)
    expect(honest.flooded).toBeLessThanOrEqual(limit)
    // The flooder offered far more than its limit, was never refused or cut, and was applied at its rate.
    expect(report.sent).toBeGreaterThan(5_000)
    expect(report.refusals).toBe(0)
    expect(report.closes).toBe(0)
    expect(appliedRate).toBeGreaterThan(UPDATES_PER_SECOND * 0.8)
    expect(appliedRate).toBeLessThan(UPDATES_PER_SECOND * 1.25)
    expect(rssMax - rssBefore).toBeLessThan(RSS_GROWTH_BOUND_BYTES)

    // kill -9 and restart: every comment acknowledged to the flooder is there.
    server.process.kill('SIGKILL')
    await server.exited
    children.splice(0)
    for (const c of clients.splice(0)) c.destroy()
    const restarted = await startChild(env)
    children.push(restarted)
    const reader = await rawClient(restarted.webSocketUrl, name, await tokenFor(secret, 'reader'))
    clients.push(reader)
    const stored = new Set(readThreads(reader.doc).flatMap((thread) => thread.comments.map((c) => c.text)))
    const missing = Array.from({ length: report.acknowledged }, (_, i) => `f${i + 1}`).filter((text) => !stored.has(text))
    expect(missing).toEqual([])
  }, 120_000)
})

describe('slow readers and connection throttling', () => {
  let s: TestServer | undefined
  afterEach(async () => {
    await s?.dispose()
    s = undefined
  })

  it('closes a socket whose send buffer stays full, and keeps serving the others', async () => {
    s = await startServer({
      // The writer sends updates of ~720 KB, far past the default byte rate: let them through at once.
      updateRate: { perSecond: 1000, burst: 1000 },
      flow: { updateBytes: { perSecond: 1024 ** 3, burst: 1024 ** 3 } },
      guard: { slowReaders: { maxBufferedBytes: 256 * 1024, graceMs: 300, sweepMs: 100, closeTimeoutMs: 10_000 } },
    })
    const name = 'comments/slow'
    const slowCloses = async () => (await s!.server.metrics.registry.getSingleMetric('parley_slow_reader_closes_total')?.get())?.values[0]?.value ?? 0
    const writer = await rawClient(s.server.webSocketUrl, name, await s.token('writer'))
    const { threadId } = createThread({ doc: writer.doc, userId: 'writer' }, 'start')
    await waitFor(() => writer.provider.unsyncedChanges === 0, 'thread stored')
    // A reader that stops reading: a raw socket that authenticates, then pauses.
    const slow = new WebSocket(s.server.webSocketUrl)
    const closed = new Promise<{ code: number; reason: string }>((resolve) => slow.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
    await new Promise((resolve) => slow.on('open', resolve))
    slow.send(authFrame(name, await s.token('slow')))
    await new Promise((resolve) => slow.once('message', resolve))
    slow.pause()
    // Write until the slow socket's buffer passes the bound: big comments, many per update.
    const big = 'x'.repeat(9_000)
    for (let round = 0; round < 60; round++) {
      writer.doc.transact(() => {
        for (let i = 0; i < 80; i++) reply({ doc: writer.doc, userId: 'writer' }, threadId, big)
      })
      await waitFor(() => writer.provider.unsyncedChanges === 0, 'round acknowledged')
      if ((await slowCloses()) > 0) break
    }
    expect(await slowCloses()).toBe(1)
    // Its close frame waits behind the same full buffer: later sweeps (every 100 ms, grace 300 ms)
    // find it still listed and still full, and must not count or close it again.
    const closedAt = Date.now()
    await waitFor(() => Date.now() - closedAt > 1_000, 'three grace periods pass with the slow socket still paused')
    expect(await slowCloses()).toBe(1)
    // Reading again, the client drains the buffer and finds the documented close behind it.
    slow.resume()
    expect(await closed).toEqual({ code: 4008, reason: 'slow_reader' })
    reply({ doc: writer.doc, userId: 'writer' }, threadId, 'still served')
    await waitFor(() => writer.provider.unsyncedChanges === 0, 'the writer keeps working')
    writer.destroy()
  }, 60_000)

  it('throttles connection attempts per address with 429', async () => {
    s = await startServer({ connections: { upgrades: { upgradesPerSecond: 0.1, upgradeBurst: 3 } } })
    const statuses = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<number>((resolve) => {
            const ws = new WebSocket(s!.server.webSocketUrl)
            ws.on('open', () => {
              resolve(101)
              ws.close()
            })
            ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
            ws.on('error', () => undefined)
          }),
      ),
    )
    expect(statuses.filter((code) => code === 101)).toHaveLength(3)
    expect(statuses.filter((code) => code === 429)).toHaveLength(3)
  })
})
