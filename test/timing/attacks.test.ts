/**
 * The memory budget (issue 13): every resource attack at once against one Parley process at its
 * default limits, for 60 s in all. The attacks (test/timing/attacker.ts, at the lowest CPU
 * priority, standing for clients elsewhere) are 100 sockets without a token holding ~50 KiB each,
 * 200 idle TCP connections, awareness frames of 70 × 25 KB states, 3.5 MiB state vectors, one
 * socket opening 5,000 documents, mention storms of 5 × 1,000 `@handles` of real users, 30
 * concurrent directory searches over 20,000 users, 100 KB document names, and a flooder of valid
 * comments (bench/lib/flooder.ts). The per-address limits are lifted, as if the attackers came
 * from many addresses.
 *
 * An honest writer and reader measure delivery in windows that alternate between attacked and
 * unloaded (each unloaded one after the server has settled), so that whatever else the machine
 * does weighs on both alike. Bounds: the server's peak resident memory over the run stays under
 * {@link RSS_PEAK_BOUND_BYTES}, every honest comment is delivered with a p95 under
 * {@link ATTACKED_P95_BOUND_MS} (the issue's aim, 2× of unloaded, is printed; it is measured on a
 * quiet machine by `npx node bench/attacks.ts`, the same attacks, see docs/PERFORMANCE.md), and
 * /health answers within {@link HEALTH_BOUND_MS} throughout. The server's CPU share
 * and event-loop delay per attacked window are printed beside them.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { UPDATE_BURST, UPDATES_PER_SECOND } from '../../server/flow/limits.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { ROOT, startChild, type ChildServer } from '../helpers/child.ts'
import type { RawClient } from '../helpers/raw.ts'
import { tempDir } from '../helpers/server.ts'
import { newSecret, tokenFor } from '../helpers/tokens.ts'
import { waitFor } from '../helpers/wait.ts'
import { memoryOf, metricValue } from '../limits/sockets.ts'
import { cpuOf, honestPair, niceChild } from './honest.ts'
import { handleOf, STORM_SUBJECT } from './storm.ts'
import { p95 } from './stats.ts'

/** Attacked windows of {@link ATTACK_WINDOW_MS}: 60 s of attack in all. */
const WINDOWS = 6
const ATTACK_WINDOW_MS = 10_000
/** Unloaded windows between them, each after {@link SETTLE_MS} for the server to finish what the attack left. */
const UNLOADED_WINDOW_MS = 4_000
const SETTLE_MS = 1_500
/** The honest writer sends a comment every this many ms (8/s, under its own limit). */
const WRITE_INTERVAL_MS = 125
/** Users in the directory (the storm mentions them; the searches scan them). */
const USERS = 20_000
/**
 * The bound on the honest delivery p95 under attack, for a shared CI machine. The aim is 2× of
 * unloaded: on a quiet two-core machine, with the attackers beside the server, 9–13 ms against
 * 5–6 ms unloaded (bench/attacks.ts); in this test on the machine shared with other test runs,
 * 12–16 ms (20–46 ms before the mention storm's work was sliced). The bound leaves room for a
 * loaded machine and still fails when honest writes wait behind whole attacks again.
 */
const ATTACKED_P95_BOUND_MS = 100
/** The stated bound on the server's peak resident memory over the whole run (measured: see the log line). */
const RSS_PEAK_BOUND_BYTES = 768 * 1024 * 1024
/** The slowest /health answer allowed while attacked. */
const HEALTH_BOUND_MS = 1_500
const ATTACKS = ['preauth', 'idle', 'awareness', 'syncstep1', 'documents', 'storm', 'search', 'names']

describe('every attack at once', () => {
  const dataDir = tempDir()
  const secret = newSecret()
  let server: ChildServer | undefined
  const clients: RawClient[] = []
  const helpers: ChildProcessWithoutNullStreams[] = []
  afterAll(() => {
    for (const c of clients) c.destroy()
    for (const h of helpers) h.kill('SIGKILL')
    server?.process.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('keeps the server under its memory bound, /health answering and honest delivery flowing', async () => {
    const storage = SqliteStorage.inDataDir(dataDir)
    for (let i = 0; i < USERS; i++) await storage.users.putProfile(`user-${i}`, { name: `Member ${i} Smith`, handle: handleOf(i) })
    await storage.subjects.put(STORM_SUBJECT, 'comment')
    await storage.close()
    server = await startChild({
      PARLEY_DATA_DIR: dataDir,
      PARLEY_JWT_SECRET: secret,
      PARLEY_CONNECTIONS_PER_ADDRESS: '0',
      PARLEY_UPDATES_PER_SECOND: String(UPDATES_PER_SECOND),
      PARLEY_UPDATE_BURST: String(UPDATE_BURST),
    })
    const pid = server.process.pid!

    const honest = await honestPair(
      server.webSocketUrl,
      'comments/honest',
      { writer: await tokenFor(secret, 'writer'), reader: await tokenFor(secret, 'observer') },
      WRITE_INTERVAL_MS,
    )
    clients.push(...honest.clients)
    const phase = honest.phase

    const mallory = await tokenFor(secret, 'mallory')
    const attacker = niceChild([path.join(ROOT, 'test/timing/attacker.ts'), server.httpUrl, server.webSocketUrl, mallory, mallory, ATTACKS.join(',')])
    const flooder = niceChild([path.join(ROOT, 'bench/lib/flooder.ts'), server.webSocketUrl, mallory, 'comments/flood', 'mallory', '40000'])
    helpers.push(attacker.child, flooder.child)
    await waitFor(() => attacker.output().includes('ready') && flooder.output().includes('ready'), 'the attackers are ready', 60_000)

    let healthWorst = 0
    let healthFailures = 0
    let polling = true
    const poll = (async () => {
      while (polling) {
        const started = performance.now()
        try {
          const answer = await fetch(`${server!.httpUrl}/health`, { signal: AbortSignal.timeout(10_000) })
          await answer.body?.cancel()
          if (!answer.ok) healthFailures++
        } catch {
          healthFailures++
        }
        healthWorst = Math.max(healthWorst, performance.now() - started)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })()

    const cpuAttacked: number[] = []
    const lags: number[][] = []
    const eventLoopLag = async () => {
      const text = await (await fetch(`${server!.httpUrl}/metrics`)).text()
      return Math.round(metricValue(text, 'parley_nodejs_eventloop_lag_p99_seconds') * 1000)
    }
    const before = memoryOf(pid)
    const unloaded: number[] = []
    const attacked: number[] = []
    for (let w = 0; w < WINDOWS; w++) {
      unloaded.push(...(await phase(`unloaded-${w}`, UNLOADED_WINDOW_MS)))
      const lagBefore = await eventLoopLag()
      attacker.child.stdin.write('attack\n')
      flooder.child.stdin.write('flood\n')
      const cpuBefore = cpuOf(pid)
      attacked.push(...(await phase(`attacked-${w}`, ATTACK_WINDOW_MS)))
      cpuAttacked.push((cpuOf(pid) - cpuBefore) / ATTACK_WINDOW_MS)
      lags.push([lagBefore, await eventLoopLag()])
      attacker.child.stdin.write('pause\n')
      flooder.child.stdin.write('pause\n')
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    }
    polling = false
    await poll
    const peak = memoryOf(pid).peak
    attacker.child.stdin.write('exit\n')
    flooder.child.stdin.write('exit\n')
    await waitFor(() => attacker.output().includes('}') && flooder.output().includes('}'), 'the attackers report', 30_000)
    const counts = attacker.output().trim().split('\n').at(-1)!
    const flood = flooder.output().trim().split('\n').at(-1)!
    console.log(
      `honest delivery p95: unloaded ${p95(unloaded).toFixed(1)} ms (${unloaded.length}), attacked ${p95(attacked).toFixed(1)} ms (${attacked.length}; bound ${ATTACKED_P95_BOUND_MS} ms, aim ${(2 * p95(unloaded)).toFixed(1)} ms); ` +
        `server RSS ${(before.rss / 2 ** 20).toFixed(0)} MiB before, peak ${(peak / 2 ** 20).toFixed(0)} MiB (bound ${RSS_PEAK_BOUND_BYTES / 2 ** 20} MiB); ` +
        `/health worst ${healthWorst.toFixed(0)} ms, ${healthFailures} failures; server CPU attacked ${cpuAttacked.map((c) => `${Math.round(c * 100)}%`).join(' ')}; loop lag p99 ms (unloaded, attacked) ${JSON.stringify(lags)}\nattacks: ${counts}\nflooder: ${flood}`,
    )

    // Every attack ran: it opened sockets or sent requests.
    const ran = JSON.parse(counts) as Record<string, { opened: number; sent: number }>
    for (const attack of ATTACKS) expect(ran[attack]!.opened + ran[attack]!.sent, `${attack} ran`).toBeGreaterThan(0)
    expect(server.process.exitCode).toBeNull()
    expect(peak).toBeLessThan(RSS_PEAK_BOUND_BYTES)
    expect(healthFailures).toBe(0)
    expect(healthWorst).toBeLessThan(HEALTH_BOUND_MS)
    expect(attacked.length).toBeGreaterThan(WINDOWS * (ATTACK_WINDOW_MS / WRITE_INTERVAL_MS) * 0.8)
    expect(p95(attacked)).toBeLessThan(ATTACKED_P95_BOUND_MS)
  }, 300_000)
})
