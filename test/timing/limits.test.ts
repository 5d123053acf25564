/**
 * Rate limits, slow readers and connection throttling. These measure time, so `npm test` runs
 * test/timing/ on its own, after the rest of the suite; the flooding test also interleaves its
 * unloaded and flooded windows, so that whatever else the machine does weighs on both alike.
 */
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type * as Y from 'yjs'
import { createThread, reply, threadsMap } from '../../protocol/index.ts'
import { ROOT, startChild, type ChildServer } from '../helpers/child.ts'
import { authFrame } from '../helpers/frames.ts'
import { rawClient, type RawClient } from '../helpers/raw.ts'
import { startServer, tempDir, type TestServer } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'

/** Windows of each kind (unloaded, flooded), alternating. */
const WINDOWS = 3
/** Comments the honest writer sends per window, one every {@link WRITE_INTERVAL_MS}. */
const SAMPLES = 15
const WRITE_INTERVAL_MS = 100
/** Below this, p95 differences are scheduler noise on a shared two-core machine. */
const NOISE_FLOOR_MS = 5

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0
}

describe('rate limits', () => {
  const children: ChildServer[] = []
  const clients: RawClient[] = []
  const dirs: string[] = []
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy()
    for (const c of children.splice(0)) c.process.kill('SIGKILL')
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('limits a flooding client while an honest client’s delivery stays within 1.5× its unloaded p95', async () => {
    const secret = newSecret()
    const dataDir = tempDir()
    dirs.push(dataDir)
    // The production defaults (10 updates per second, bursts of 50).
    const server = await startChild({ PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: secret, PARLEY_UPDATES_PER_SECOND: '10', PARLEY_UPDATE_BURST: '50' })
    children.push(server)
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
    const phase = async (label: string): Promise<number[]> => {
      latencies.length = 0
      for (let i = 0; i < SAMPLES; i++) {
        const id = `${label}-${i}`
        sentAt.set(id, performance.now())
        reply({ doc: writer.doc, userId: 'writer', newId: () => id }, threadId, `sample ${i}`)
        await new Promise((resolve) => setTimeout(resolve, WRITE_INTERVAL_MS))
      }
      await waitFor(() => sentAt.size === 0, `${label}: every sample delivered`)
      return [...latencies]
    }

    const flooderToken = await tokenFor(secret, 'flooder')
    const flooder = spawn(process.execPath, [path.join(ROOT, 'test/timing/flooder.ts'), server.webSocketUrl, flooderToken, name], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
    let flooderOut = ''
    flooder.stdout.on('data', (d: Buffer) => (flooderOut += d.toString()))
    flooder.stderr.on('data', (d: Buffer) => (flooderOut += d.toString()))
    await waitFor(() => flooderOut.includes('ready'), 'the flooder is connected', 20_000)
    const unloaded: number[] = []
    const flooded: number[] = []
    for (let w = 0; w < WINDOWS; w++) {
      unloaded.push(...(await phase(`unloaded-${w}`)))
      flooder.stdin.write('flood\n')
      flooded.push(...(await phase(`flooded-${w}`)))
      flooder.stdin.write('pause\n')
    }
    flooder.stdin.write('exit\n')
    await waitFor(() => flooderOut.includes('}'), 'the flooder reports', 20_000)
    const report = JSON.parse(flooderOut.trim().split('\n').at(-1)!) as { sent: number; acknowledged: number; refusals: number }

    expect(unloaded).toHaveLength(SAMPLES * WINDOWS)
    expect(flooded).toHaveLength(SAMPLES * WINDOWS)
    expect(report.sent).toBeGreaterThan(1_000)
    expect(report.refusals).toBeGreaterThan(0)
    const limit = 1.5 * Math.max(p95(unloaded), NOISE_FLOOR_MS)
    console.log(`honest delivery p95: unloaded ${p95(unloaded).toFixed(1)} ms, flooded ${p95(flooded).toFixed(1)} ms (limit ${limit.toFixed(1)} ms); flooder ${JSON.stringify(report)}`)
    expect(p95(flooded)).toBeLessThanOrEqual(limit)
  }, 60_000)
})

describe('slow readers and connection throttling', () => {
  let s: TestServer | undefined
  afterEach(async () => {
    await s?.dispose()
    s = undefined
  })

  it('closes a socket whose send buffer stays full, and keeps serving the others', async () => {
    s = await startServer({
      updateRate: { perSecond: 1000, burst: 1000 },
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
    // Reading again, the client drains the buffer and finds the documented close behind it.
    slow.resume()
    expect(await closed).toEqual({ code: 4008, reason: 'slow_reader' })
    reply({ doc: writer.doc, userId: 'writer' }, threadId, 'still served')
    await waitFor(() => writer.provider.unsyncedChanges === 0, 'the writer keeps working')
    writer.destroy()
  }, 60_000)

  it('throttles connection attempts per address with 429', async () => {
    s = await startServer({ guard: { connectionsPerAddress: { perSecond: 0.1, burst: 3 } } })
    const statuses = await Promise.all(
      Array.from({ length: 6 }, () => new Promise<number>((resolve) => {
        const ws = new WebSocket(s!.server.webSocketUrl)
        ws.on('open', () => {
          resolve(101)
          ws.close()
        })
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
        ws.on('error', () => undefined)
      })),
    )
    expect(statuses.filter((code) => code === 101)).toHaveLength(3)
    expect(statuses.filter((code) => code === 429)).toHaveLength(3)
  })
})
