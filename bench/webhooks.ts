/**
 * Webhooks at a steady event rate (issue 17): `rate` events a second for `seconds`, spread over
 * `subjects` subjects, to a receiver on loopback that answers after 50 ms, 500 to 10 % of
 * requests (seeded) and 200 to the rest, checking every `Parley-Signature`. Measured: the
 * fraction of events delivered (first 2xx) within 60 s of their creation, event-to-delivery
 * percentiles, POSTs per second, and, at the same time, socket fan-out (one writer, `readers`
 * readers of one comments document, 20 comments a second): its p95 with webhooks off and on, in
 * one invocation (off first, then on, each on a fresh server).
 *
 * The receiver is a child process (this file with `--receiver`), so the server's event loop pays
 * only for sending. Events come from `server.events.emit` (what a write's announcement does).
 * Run: `npx node bench/webhooks.ts [seconds=20] [rate=500] [subjects=200] [readers=30]`.
 */
import * as prng from 'lib0/prng'
import { fork } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { loadOrCreateDevSecret } from '../server/auth/dev-secret.ts'
import { signToken } from '../server/auth/sign.ts'
import { createParleyServer } from '../server/server.ts'
import { addComments, commentBody, commentId, findMarkers } from './lib/comments.ts'
import { connectProvider, destroyProviders, type ProviderClient } from './lib/provider-client.ts'
import { machineInfo, RESULTS_DIR, toJson } from './lib/results.ts'
import { distribution, Samples } from './lib/stats.ts'
import { pool, untilTime, waitUntil } from './lib/wait.ts'

const SECRET = 'bench-webhook-secret'
/** The receiver's answer time. */
const ANSWER_MS = 50
/** Share of requests answered 500. */
const FAILURE_RATE = 0.1
/** An event counts as delivered when its first 2xx came within this of its creation. */
const DEADLINE_MS = 60_000
/** Fan-out writes a second (one comment each) and the events emitted per tick. */
const WRITES_PER_SECOND = 20
const TICK_MS = 10
/** How often the receiver reports its deliveries to this process. */
const REPORT_MS = 250
/** Prefix of the ids of the events this bench emits. */
const BENCH_EVENT = 'bench-'

type ReceiverReport = { port: number } | { delivered: Array<[string, number]>; requests: number; failed: number; invalid: number; repeated: number }

/** The receiver process: answers after ANSWER_MS, 500 to FAILURE_RATE of requests; reports each event's first 2xx latency. */
function runReceiver(): void {
  const gen = prng.create(17)
  const random = () => prng.real53(gen)
  const seen = new Set<string>()
  let batch: Array<[string, number]> = []
  const counts = { requests: 0, failed: 0, invalid: 0, repeated: 0 }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const header = String(request.headers['parley-signature'] ?? '')
      const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) ?? []
      if (!t || createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex') !== v1) counts.invalid++
      counts.requests++
      const fail = random() < FAILURE_RATE
      setTimeout(() => {
        if (fail) {
          counts.failed++
          response.writeHead(500).end()
          return
        }
        const event = JSON.parse(body) as { id: string; createdAt: number }
        // only the bench's events count (the fan-out writer's comments are announced too)
        if (!event.id.startsWith(BENCH_EVENT)) {
          response.writeHead(200).end()
          return
        }
        if (seen.has(event.id)) counts.repeated++
        else {
          seen.add(event.id)
          batch.push([event.id, Date.now() - event.createdAt])
        }
        response.writeHead(200).end()
      }, ANSWER_MS)
    })
  })
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port } satisfies ReceiverReport))
  setInterval(() => {
    process.send?.({ delivered: batch, ...counts } satisfies ReceiverReport)
    batch = []
  }, REPORT_MS)
  process.on('disconnect', () => process.exit(0))
}

interface RunResult {
  events: number
  fanout: ReturnType<typeof distribution>
  delivered?: number
  latency?: ReturnType<typeof distribution>
  postsPerSecond?: number
  failed?: number
  invalid?: number
  repeated?: number
  eventsPerSecond: number
  /** CPU of this process (server, writer and readers; not the receiver) while events were emitted, % of one core. */
  cpuPercent: number
  /** The server process's event loop delay p99 while events were emitted (ms). */
  loopDelayP99: number
}

async function run(webhooks: boolean, seconds: number, rate: number, subjects: number, readerCount: number): Promise<RunResult> {
  const receiver = webhooks ? fork(fileURLToPath(import.meta.url), ['--receiver'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }) : null
  const latencies = new Samples()
  const totals = { requests: 0, failed: 0, invalid: 0, repeated: 0 }
  let reports = 0
  const port = await new Promise<number>((resolve) => {
    if (!receiver) return resolve(0)
    receiver.on('message', (message: ReceiverReport) => {
      if ('port' in message) return resolve(message.port)
      reports++
      for (const [, ms] of message.delivered) latencies.add(ms)
      Object.assign(totals, { requests: message.requests, failed: message.failed, invalid: message.invalid, repeated: message.repeated })
    })
  })
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-webhook-bench-'))
  const server = await createParleyServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logger: pino({ level: 'warn' }),
    updateRate: { perSecond: 100_000, burst: 100_000 },
    webhook: webhooks ? { url: `http://127.0.0.1:${port}/hooks`, secret: SECRET } : undefined,
  })
  await server.listen()
  const secret = loadOrCreateDevSecret(dataDir)
  const clients: ProviderClient[] = []
  try {
    const name = 'comments/webhook-bench-fanout'
    const writer = await connectProvider(server.webSocketUrl, name, await signToken({ sub: 'writer' }, secret))
    clients.push(writer)
    const sentAt = new Map<number, number>()
    const fanout = new Samples()
    const readers = await pool(
      Array.from({ length: readerCount }, (_, i) => i),
      10,
      async (i) => {
        const client = await connectProvider(server.webSocketUrl, name, await signToken({ sub: `reader-${i}` }, secret))
        client.doc.on('update', (update: Uint8Array) =>
          findMarkers(update, (seq) => {
            const at = sentAt.get(seq)
            if (at !== undefined) fanout.add(performance.now() - at)
          }),
        )
        return client
      },
    )
    const connected = readers.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    clients.push(...connected)

    const started = performance.now()
    const cpuBefore = process.cpuUsage()
    const loopDelay = monitorEventLoopDelay({ resolution: 10 })
    loopDelay.enable()
    const end = started + seconds * 1000
    let emitted = 0
    let writes = 0
    for (let tick = 0; performance.now() < end; tick++) {
      await untilTime(started + tick * TICK_MS)
      const due = Math.floor(((performance.now() - started) / 1000) * rate)
      for (; emitted < due; emitted++) {
        const subjectId = `s${emitted % subjects}`
        const text = commentBody(emitted, 80)
        const data = { subjectId, threadId: 't', commentId: `c${emitted}`, authorId: 'bench', parentId: null, text, mentions: [] }
        server.events.emit('comment.created', data, `${BENCH_EVENT}${emitted}`)
      }
      const writesDue = Math.floor(((performance.now() - started) / 1000) * WRITES_PER_SECOND)
      for (; writes < writesDue; writes++) {
        sentAt.set(writes, performance.now())
        addComments(writer.doc, 'writer', `thread-${writes}`, [{ commentId: commentId(writes), body: commentBody(writes, 60) }])
      }
    }
    const sendSeconds = (performance.now() - started) / 1000
    const postsWhileEmitting = totals.requests
    loopDelay.disable()
    const loopDelayP99 = loopDelay.percentile(99) / 1e6
    const cpu = process.cpuUsage(cpuBefore)
    const cpuPercent = (100 * (cpu.user + cpu.system)) / 1000 / (sendSeconds * 1000)
    await waitUntil(() => fanout.count >= writes * connected.length, 5_000)
    const result: RunResult = { events: emitted, fanout: distribution(fanout), eventsPerSecond: emitted / sendSeconds, cpuPercent, loopDelayP99 }
    if (!receiver) return result
    // the last events get their full 60 s (the receiver reports every REPORT_MS)
    await waitUntil(() => latencies.count >= emitted, DEADLINE_MS)
    // two more reports: what was answered up to the deadline has arrived
    const seenReports = reports
    await waitUntil(() => reports >= seenReports + 2, REPORT_MS * 4)
    const within = latencies.sorted().filter((ms) => ms <= DEADLINE_MS)
    return {
      ...result,
      delivered: within.length,
      latency: distribution(Array.from(within)),
      postsPerSecond: postsWhileEmitting / sendSeconds,
      ...totals,
    }
  } finally {
    destroyProviders(clients)
    await server.close()
    receiver?.disconnect()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (process.argv.includes('--receiver')) runReceiver()
else {
  const [seconds = 20, rate = 500, subjects = 200, readers = 30] = process.argv.slice(2).map(Number)
  const startedAt = new Date().toISOString()
  const off = await run(false, seconds, rate, subjects, readers)
  const on = await run(true, seconds, rate, subjects, readers)
  const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(1)} ms`)
  const delivered = on.delivered ?? 0
  console.log(
    `webhooks: ${rate} events/s for ${seconds} s over ${subjects} subjects; receiver answers in ${ANSWER_MS} ms, ${FAILURE_RATE * 100} % 500 (seeded)\n`,
  )
  console.log('| metric | webhooks on | webhooks off |')
  console.log('|---|---|---|')
  console.log(`| events emitted (per second) | ${on.events} (${on.eventsPerSecond.toFixed(0)}) | ${off.events} (${off.eventsPerSecond.toFixed(0)}) |`)
  console.log(`| delivered within ${DEADLINE_MS / 1000} s | ${((100 * delivered) / on.events).toFixed(2)} % (${delivered}/${on.events}) | – |`)
  console.log(`| event to delivery p50 / p95 / p99 | ${ms(on.latency?.p50)} / ${ms(on.latency?.p95)} / ${ms(on.latency?.p99)} | – |`)
  console.log(`| POSTs per second while emitting (500s answered in all) | ${(on.postsPerSecond ?? 0).toFixed(0)} (${on.failed ?? 0}) | – |`)
  console.log(`| bad signatures, repeated deliveries | ${on.invalid ?? 0}, ${on.repeated ?? 0} | – |`)
  console.log(`| CPU of the server process while emitting | ${on.cpuPercent.toFixed(0)} % | ${off.cpuPercent.toFixed(0)} % |`)
  console.log(`| event loop delay p99 of the server process | ${ms(on.loopDelayP99)} | ${ms(off.loopDelayP99)} |`)
  console.log(
    `| socket fan-out p50 / p95 (${readers} readers, ${WRITES_PER_SECOND}/s) | ${ms(on.fanout.p50)} / ${ms(on.fanout.p95)} | ${ms(off.fanout.p50)} / ${ms(off.fanout.p95)} |`,
  )
  mkdirSync(RESULTS_DIR, { recursive: true })
  const file = path.join(RESULTS_DIR, `${startedAt.replace(/[:.]/g, '-')}-webhooks.json`)
  const params = {
    seconds,
    rate,
    subjects,
    readers,
    answerMs: ANSWER_MS,
    failureRate: FAILURE_RATE,
    deadlineMs: DEADLINE_MS,
    writesPerSecond: WRITES_PER_SECOND,
  }
  writeFileSync(file, `${toJson({ version: 1, startedAt, finishedAt: new Date().toISOString(), machine: machineInfo(), params, on, off })}\n`)
  console.log(`\nsaved ${path.relative(process.cwd(), file)}`)
  process.exit(0)
}
