/**
 * 300 sockets without a token against a Parley process with its default limits: what they make
 * the server hold is bounded, and every one of them is closed with a documented code. Before the
 * pre-authentication limits, each could queue ~5 MiB for 60–120 s (300 sockets: +1.4 GB RSS).
 *
 * - Held: each sends ~50 KiB (under the 64 KiB budget) over 91 documents, then waits: closed at
 *   the 10 s deadline with 4408.
 * - Flood: each tries to send 256 KiB: closed past the budget with 4205.
 *
 * Memory is the server process's own (Linux /proc): the peak resident size (VmHWM) over both
 * phases, minus the resident size before them.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import { PRE_AUTH_DEADLINE_MS, PRE_AUTH_MAX_BYTES } from '../../server/http/connection-limits.ts'
import { startChild, type ChildServer } from '../helpers/child.ts'
import { newSecret } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'
import { admitted, memoryOf, metricValue, send, syncStep1Frame, updateFrame, type Closed } from './sockets.ts'

/** Sockets per phase. */
const SOCKETS = 300
/**
 * What one unauthenticated socket may make the server hold: the 64 KiB budget, one 64 KiB read
 * past it, Hocuspocus's state for up to 100 pending documents (~2.5 KB each) and the socket's own
 * objects, with the garbage the server has not collected yet (its GC runs when it will). Measured:
 * 290–420 KiB a held socket (300 held: +85 to +122 MB resident, two clusters, by when the GC ran).
 * Unbounded, each held socket queued ~5 MiB: this bound is 8 times below that.
 */
const MAX_BYTES_PER_SOCKET = 640 * 1024
/** Growth of the peak resident memory over both phases (600 sockets, 300 at a time, garbage included; measured 165–222 MB; unbounded, 300 held sockets alone took +1.4 GB). */
const MAX_PEAK_GROWTH_BYTES = 320 * 1024 * 1024
/** What one held socket sends: 3 updates of 16 KiB and 90 SyncStep1 to distinct documents. */
const HELD_UPDATE_BYTES = 16 * 1024
const HELD_DOCUMENTS = 90
/**
 * What one flooding socket tries to send: 4 frames of 64 KiB (4 times the budget). More only
 * fills the kernel's buffers and keeps this process too busy to read the server's close frame
 * before the server cuts the socket (the client then sees 1006).
 */
const FLOOD_FRAMES = 4
const FLOOD_FRAME_BYTES = 64 * 1024

interface Socket {
  ws: WebSocket
  closed: Promise<Closed>
}

describe('memory held by unauthenticated sockets', () => {
  let child: ChildServer | undefined
  let dataDir = ''
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'parley-limits-'))
    // 600 sockets from one address: the per-address limits are lifted, as the bench does.
    child = await startChild({ PARLEY_JWT_SECRET: newSecret(), PARLEY_DATA_DIR: dataDir, PARLEY_CONNECTIONS_PER_ADDRESS: '0' })
  })
  afterAll(async () => {
    child?.process.kill('SIGKILL')
    await child?.exited
    rmSync(dataDir, { recursive: true, force: true })
  })

  const metrics = async () => (await fetch(`${child!.httpUrl}/metrics`)).text()
  const openAll = () => Promise.all(Array.from({ length: SOCKETS }, () => admitted(child!.webSocketUrl)))

  it('stays bounded for 300 sockets, and closes each with 4408 (deadline) or 4205 (bytes)', async () => {
    const pid = child!.process.pid!
    // Warm the paths once, so that the baseline includes the code they load.
    const warm = await admitted(child!.webSocketUrl)
    await send(warm.ws, updateFrame('comments/warm', 1024))
    warm.ws.terminate()
    await warm.closed
    const before = memoryOf(pid)

    // Held: under the byte budget, then silent.
    const update = updateFrame('comments/held', HELD_UPDATE_BYTES)
    const openedAt = Date.now()
    const held: Socket[] = await openAll()
    const allOpenAt = Date.now()
    await Promise.all(
      held.map(async ({ ws }) => {
        for (let i = 0; i < 3; i++) await send(ws, update)
        for (let i = 0; i < HELD_DOCUMENTS; i++) await send(ws, syncStep1Frame(`comments/fan-${i}`))
      }),
    )
    const heldPayload = SOCKETS * (3 * update.byteLength + HELD_DOCUMENTS * syncStep1Frame('comments/fan-10').byteLength)
    expect(heldPayload / SOCKETS).toBeLessThan(PRE_AUTH_MAX_BYTES)
    await waitFor(async () => metricValue(await metrics(), 'parley_pre_auth_bytes_total') >= heldPayload, 'the server read every held frame', 20_000)
    expect(metricValue(await metrics(), 'parley_pre_auth_sockets')).toBe(SOCKETS)
    const whileHeld = memoryOf(pid)
    expect(whileHeld.rss - before.rss).toBeLessThan(SOCKETS * MAX_BYTES_PER_SOCKET)
    const heldCloses = await Promise.all(held.map((socket) => socket.closed))
    for (const closed of heldCloses) {
      expect(closed).toMatchObject({ code: 4408, reason: 'Connection Timeout' })
      expect(closed.at - openedAt).toBeGreaterThanOrEqual(PRE_AUTH_DEADLINE_MS - 5)
      expect(closed.at - allOpenAt).toBeLessThan(PRE_AUTH_DEADLINE_MS + 5_000)
    }

    // Flood: 256 KiB each, as fast as the server reads.
    const frame = updateFrame('comments/flood', FLOOD_FRAME_BYTES)
    const flood: Socket[] = await openAll()
    const floodCloses = await Promise.all(
      flood.map(async ({ ws, closed }) => {
        let done = false
        void closed.then(() => (done = true))
        for (let i = 0; i < FLOOD_FRAMES && !done; i++) await send(ws, frame)
        return closed
      }),
    )
    for (const closed of floodCloses) expect(closed).toMatchObject({ code: 4205, reason: 'Reset Connection' })
    const text = await metrics()
    expect(metricValue(text, 'parley_pre_auth_closes_total', 'reason="deadline"')).toBe(SOCKETS)
    expect(metricValue(text, 'parley_pre_auth_closes_total', 'reason="bytes"')).toBe(SOCKETS)
    expect(metricValue(text, 'parley_pre_auth_sockets')).toBe(0)
    // Each flooding socket was read for at most the budget and one network read past it.
    const read = metricValue(text, 'parley_pre_auth_bytes_total')
    expect(read - heldPayload).toBeLessThan(SOCKETS * (PRE_AUTH_MAX_BYTES + 2 * FLOOD_FRAME_BYTES))

    const after = memoryOf(pid)
    const growth = after.peak - before.rss
    console.log(
      `pre-auth memory: rss before ${mb(before.rss)} MB, while 300 held ${mb(whileHeld.rss)} MB, peak ${mb(after.peak)} MB (growth ${mb(growth)} MB), ` +
        `read ${mb(read)} MB from ${2 * SOCKETS} sockets`,
    )
    expect(growth).toBeLessThan(MAX_PEAK_GROWTH_BYTES)
  }, 90_000)
})

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1)
}
