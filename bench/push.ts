/**
 * Push throughput against a local APNs peer (HTTP/2 + TLS) that answers 20% of requests with 500
 * or 429 (`Retry-After: 1`, seeded): `notifications` mentions (authors write comments of 20
 * mentions each, within the per-author cap) to users who each have one APNs device. Measured:
 * the fraction delivered within the deadline, pushes per second, retries per delivery, and the
 * write-to-inbox p95 of `watchers` recipients whose inbox is open, beside the same run with push
 * off (no APNs configured), side by side in one invocation.
 *
 * The peer runs in a process of its own (bench/lib/apns-peer-process.ts): its TLS and token checks
 * stand for Apple's servers and must not share the measured server's event loop. The server and the
 * clients share this process. Run: `node bench/push.ts [notifications=10000] [users=2000]`.
 */
import { rmSync } from 'node:fs'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pino from 'pino'
import * as Y from 'yjs'
import { createThread, INBOX_NOTIFICATIONS } from '../protocol/index.ts'
import { loadOrCreateDevSecret } from '../server/auth/dev-secret.ts'
import { signToken } from '../server/auth/sign.ts'
import { createParleyServer } from '../server/server.ts'
import { startApnsPeerProcess, type ApnsPeerProcess } from './lib/apns-peer-process.ts'
import { connectProvider, destroyProviders, type ProviderClient } from './lib/provider-client.ts'
import { distribution, Samples } from './lib/stats.ts'
import { pool, waitUntil } from './lib/wait.ts'

const MENTIONS_PER_COMMENT = 20
const COMMENTS_PER_AUTHOR = 3
const WATCHERS = 20
const DEADLINE_MS = 60_000
const FAILURE_RATE = 0.2

interface RunResult {
  notifications: number
  delivered: number
  seconds: number
  pushesPerSec: number
  /** Seconds from the first write to 99% of the deliveries. */
  to99: number
  retriesPerDelivery: number
  /** Successful pushes beyond the first for a (device, notification). */
  repeated: number
  inboxP95: number
}

async function run(push: boolean, notifications: number, users: number, peer: ApnsPeerProcess): Promise<RunResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-push-bench-'))
  const keyFile = path.join(dataDir, 'key.p8')
  writeFileSync(keyFile, peer.key)
  peer.clear()
  const server = await createParleyServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logger: pino({ level: 'warn' }),
    updateRate: { perSecond: 100_000, burst: 100_000 },
    push: {
      apns: push ? { keyFile, keyId: peer.keyId, teamId: peer.teamId, topic: peer.topic, production: false, host: '127.0.0.1', port: peer.port } : undefined,
      webPush: undefined,
      fcm: undefined,
    },
    delivery: { ca: [peer.ca] },
  })
  await server.listen()
  const secret = loadOrCreateDevSecret(dataDir)
  const token = (userId: string) => signToken({ sub: userId }, secret)
  const clients: ProviderClient[] = []
  try {
    for (let u = 0; u < users; u++) {
      await server.storage.devices.register(
        { id: `d_${u}`, userId: `u-${u}`, platform: 'apns', token: u.toString(16).padStart(8, '0'), createdAt: u, lastSentAt: null },
        20,
      )
    }
    const sentAt = new Map<string, number>()
    const latencies = new Samples()
    const watched = await pool(
      Array.from({ length: WATCHERS }, (_, i) => i),
      10,
      async (i) => {
        const client = await connectProvider(server.webSocketUrl, `inbox/u-${i}`, await token(`u-${i}`))
        const seen = new Set<string>()
        client.doc.on('update', () => {
          for (const entry of client.doc.getMap(INBOX_NOTIFICATIONS).values()) {
            const preview = entry instanceof Y.Map ? String(entry.get('preview')) : ''
            const key = `${i}:${preview}`
            const at = sentAt.get(preview)
            if (at === undefined || seen.has(key)) continue
            seen.add(key)
            latencies.add(performance.now() - at)
          }
        })
        return client
      },
    )
    clients.push(...watched.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])))
    const comments = Math.ceil(notifications / MENTIONS_PER_COMMENT)
    const authors = Math.ceil(comments / COMMENTS_PER_AUTHOR)
    const started = performance.now()
    let mentioned = 0
    for (let a = 0; a < authors; a++) {
      const author = await connectProvider(server.webSocketUrl, `comments/push-bench-${a}`, await token(`author-${a}`))
      clients.push(author)
      for (let c = 0; c < COMMENTS_PER_AUTHOR && mentioned < notifications; c++) {
        const text = `a${a}c${c} `
        const runs = [{ text }]
        for (let m = 0; m < MENTIONS_PER_COMMENT && mentioned < notifications; m++, mentioned++) {
          const user = `u-${(mentioned * 7919) % users}`
          runs.push({ text: '@x ', mention: user } as { text: string; mention?: string })
        }
        sentAt.set(`${text}${'@x '.repeat(runs.length - 1)}`.trim(), performance.now())
        createThread({ doc: author.doc, userId: `author-${a}` }, runs)
      }
    }
    const succeeded = () => new Set(peer.requests.filter((r) => r.answered === 200).map((r) => `${r.token}:${r.collapseId}`)).size
    // The deadline counts from the first write; the peer reports every 100 ms.
    if (push) await waitUntil(() => succeeded() >= mentioned, Math.max(0, started + DEADLINE_MS - performance.now()) + 500)
    else await waitUntil(() => latencies.count >= Math.min(WATCHERS, mentioned), 10_000)
    const seconds = (performance.now() - started) / 1000
    // The peer's times are epoch milliseconds (another process).
    const startedAt = performance.timeOrigin + started
    const delivered = push
      ? new Set(peer.requests.filter((r) => r.answered === 200 && r.at <= startedAt + DEADLINE_MS).map((r) => `${r.token}:${r.collapseId}`)).size
      : 0
    const okTimes = peer.requests
      .filter((r) => r.answered === 200)
      .map((r) => r.at)
      .sort((a, b) => a - b)
    // The bulk rate: up to 99% of deliveries (the last ones wait out several backoffs).
    const bulk = okTimes[Math.max(0, Math.floor(okTimes.length * 0.99) - 1)] ?? startedAt
    const span = Math.max(0.001, (bulk - startedAt) / 1000)
    return {
      notifications: mentioned,
      delivered,
      seconds,
      pushesPerSec: push ? (0.99 * delivered) / span : 0,
      to99: span,
      retriesPerDelivery: push && succeeded() > 0 ? peer.requests.filter((r) => r.answered !== 200).length / succeeded() : 0,
      repeated: push ? peer.requests.filter((r) => r.answered === 200).length - succeeded() : 0,
      inboxP95: distribution(latencies).p95,
    }
  } finally {
    destroyProviders(clients)
    await server.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const notifications = Number(process.argv[2] ?? 10_000)
const users = Number(process.argv[3] ?? 2_000)
const peer = await startApnsPeerProcess(FAILURE_RATE, 42)
const off = await run(false, notifications, users, peer)
const on = await run(true, notifications, users, peer)
await peer.close()
const fmt = (v: number, digits = 1) => v.toFixed(digits)
console.log(`push: ${notifications} notifications to ${users} APNs devices, ${FAILURE_RATE * 100}% 500/429 (seeded)\n`)
console.log('| metric | push on | push off |')
console.log('|---|---|---|')
console.log(`| delivered within ${DEADLINE_MS / 1000} s | ${fmt((100 * on.delivered) / on.notifications, 2)} % (${on.delivered}/${on.notifications}) | – |`)
console.log(`| time to deliver all (or to the deadline) | ${fmt(on.seconds)} s | – |`)
console.log(`| time to 99 % delivered | ${fmt(on.to99)} s | – |`)
console.log(`| pushes per second (to 99 %) | ${fmt(on.pushesPerSec, 0)} | – |`)
console.log(`| retries per delivery | ${fmt(on.retriesPerDelivery, 3)} | – |`)
console.log(`| pushes repeated after a success | ${on.repeated} | – |`)
console.log(`| write to inbox p95 (${WATCHERS} open inboxes) | ${fmt(on.inboxP95)} ms | ${fmt(off.inboxP95)} ms |`)
process.exit(0)
