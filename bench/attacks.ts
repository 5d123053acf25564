/**
 * Every attack at once (issue 13's memory budget and its aim): the attacks of
 * test/timing/attacker.ts (pre-auth sockets, idle TCP, oversized awareness, huge state vectors,
 * 5,000 documents on one socket, mention storms of 5 × 1,000 `@handles`, 30 concurrent directory
 * searches, 100 KB names) and a flooder of valid comments (bench/lib/flooder.ts), at the lowest CPU
 * priority, against one `parley serve` at its default limits (the per-address limit lifted, as if
 * the attackers came from many addresses). An honest writer (8 comments a second) and a reader
 * measure delivery in windows that alternate between unloaded and attacked, as the timing test
 * does, so that whatever else the machine does weighs on both alike. Printed and saved per run:
 * honest p95 unloaded and attacked and their ratio (the aim: at most 2×), the server's CPU while
 * attacked and its peak RSS.
 *
 * Run: `npx node bench/attacks.ts [runs=3] [windows=6]` (about 100 s per run).
 */
import { rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { SqliteStorage } from '../server/storage/sqlite/index.ts'
import { ROOT, startChild } from '../test/helpers/child.ts'
import { tempDir } from '../test/helpers/server.ts'
import { newSecret, tokenFor } from '../test/helpers/tokens.ts'
import { waitFor } from '../test/helpers/wait.ts'
import { memoryOf } from '../test/limits/sockets.ts'
import { cpuOf, honestPair, niceChild } from '../test/timing/honest.ts'
import { handleOf, STORM_SUBJECT } from '../test/timing/storm.ts'
import { machineInfo, RESULTS_DIR, toJson } from './lib/results.ts'
import { percentile } from './lib/stats.ts'

const p95 = (values: readonly number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    95,
  )

const ATTACKS = ['preauth', 'idle', 'awareness', 'syncstep1', 'documents', 'storm', 'search', 'names']
/** Directory users (the storm mentions them; the searches scan them). */
const USERS = 20_000
const UNLOADED_WINDOW_MS = 4_000
const ATTACK_WINDOW_MS = 10_000
/** Pause after each attacked window for the server to finish what the attack left. */
const SETTLE_MS = 1_500
/** The honest writer's interval (8 comments a second, under its limit). */
const WRITE_INTERVAL_MS = 125
/** The aim: attacked p95 at most this many times the unloaded one. */
const AIM_RATIO = 2

interface RunFigures {
  unloadedP95: number
  attackedP95: number
  ratio: number
  samples: { unloaded: number; attacked: number }
  serverCpuAttacked: number
  peakRssMiB: number
}

async function run(index: number, windows: number): Promise<RunFigures> {
  const dataDir = tempDir()
  const secret = newSecret()
  const storage = SqliteStorage.inDataDir(dataDir)
  for (let i = 0; i < USERS; i++) await storage.users.putProfile(`user-${i}`, { name: `Member ${i} Smith`, handle: handleOf(i) })
  await storage.subjects.put(STORM_SUBJECT, 'comment')
  await storage.close()
  const server = await startChild({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_JWT_SECRET: secret,
    PARLEY_CONNECTIONS_PER_ADDRESS: '0',
    PARLEY_UPDATES_PER_SECOND: '10',
    PARLEY_UPDATE_BURST: '50',
  })
  const pid = server.process.pid!
  const honest = await honestPair(
    server.webSocketUrl,
    'comments/honest',
    { writer: await tokenFor(secret, 'writer'), reader: await tokenFor(secret, 'observer') },
    WRITE_INTERVAL_MS,
  )
  const phase = honest.phase
  const mallory = await tokenFor(secret, 'mallory')
  const attackers = [
    niceChild([path.join(ROOT, 'test/timing/attacker.ts'), server.httpUrl, server.webSocketUrl, mallory, mallory, ATTACKS.join(',')]),
    niceChild([path.join(ROOT, 'bench/lib/flooder.ts'), server.webSocketUrl, mallory, 'comments/flood', 'mallory', '40000']),
  ]
  try {
    await waitFor(() => attackers.every((a) => a.output().includes('ready')), 'the attackers are ready', 60_000)
    const unloaded: number[] = []
    const attacked: number[] = []
    const cpu: number[] = []
    for (let w = 0; w < windows; w++) {
      unloaded.push(...(await phase(`unloaded-${w}`, UNLOADED_WINDOW_MS)))
      for (const a of attackers) a.child.stdin?.write('attack\nflood\n')
      const cpuBefore = cpuOf(pid)
      const window = await phase(`attacked-${w}`, ATTACK_WINDOW_MS)
      attacked.push(...window)
      cpu.push((cpuOf(pid) - cpuBefore) / ATTACK_WINDOW_MS)
      for (const a of attackers) a.child.stdin?.write('pause\n')
      console.error(`[attacks run ${index}] window ${w + 1}/${windows}: attacked p95 ${p95(window).toFixed(1)} ms`)
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    }
    const unloadedP95 = p95(unloaded)
    const attackedP95 = p95(attacked)
    return {
      unloadedP95,
      attackedP95,
      ratio: attackedP95 / unloadedP95,
      samples: { unloaded: unloaded.length, attacked: attacked.length },
      serverCpuAttacked: cpu.reduce((a, b) => a + b, 0) / cpu.length,
      peakRssMiB: memoryOf(pid).peak / 2 ** 20,
    }
  } finally {
    for (const a of attackers) a.child.kill('SIGKILL')
    for (const client of honest.clients) client.destroy()
    server.process.kill('SIGTERM')
    await server.exited
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const runs = Number(process.argv[2] ?? 3)
const windows = Number(process.argv[3] ?? 6)
const startedAt = new Date().toISOString()
const figures: RunFigures[] = []
for (let r = 1; r <= runs; r++) figures.push(await run(r, windows))
const row = (f: RunFigures, r: number) =>
  `| ${r} | ${f.unloadedP95.toFixed(1)} ms | ${f.attackedP95.toFixed(1)} ms | ${f.ratio.toFixed(2)}× | ${Math.round(f.serverCpuAttacked * 100)} % | ${f.peakRssMiB.toFixed(0)} MiB |`
console.log(
  `Every attack at once: ${runs} runs × ${windows} windows (${UNLOADED_WINDOW_MS / 1000} s unloaded, ${ATTACK_WINDOW_MS / 1000} s attacked), aim ≤ ${AIM_RATIO}×\n`,
)
console.log('| run | honest p95 unloaded | honest p95 attacked | ratio | server CPU attacked | peak RSS |')
console.log('|---|---|---|---|---|---|')
figures.forEach((f, i) => console.log(row(f, i + 1)))
const file = path.join(RESULTS_DIR, `${startedAt.replace(/[:.]/g, '-')}-attacks.json`)
writeFileSync(
  file,
  `${toJson({ version: 1, startedAt, finishedAt: new Date().toISOString(), machine: machineInfo(), params: { runs, windows, attacks: ATTACKS }, figures })}\n`,
)
console.log(`\nresults: ${file}`)
process.exit(0)
