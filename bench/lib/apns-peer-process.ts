/**
 * The local APNs peer (test/helpers/apns-peer.ts) in a process of its own, so that its TLS and
 * token checks do not share the measured server's event loop (Apple's servers are not ours to
 * measure). The child answers a seeded `failureRate` with 500 or 429 (`Retry-After: 1`) and sends
 * what it answered to the parent over IPC, in batches.
 *
 * Parent: `const peer = await startApnsPeerProcess(0.2, 42)`; child: this file run with `--child`.
 */
import * as prng from 'lib0/prng'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startApnsPeer } from '../../test/helpers/apns-peer.ts'

/** How often the child sends what it answered. */
const REPORT_EVERY_MS = 100

/** One request the peer answered: the device token, the collapse id, the status, and when (epoch ms). */
export interface AnsweredPush {
  token: string
  collapseId: string
  answered: number
  at: number
}

export interface ApnsPeerProcess {
  port: number
  ca: string
  key: string
  keyId: string
  teamId: string
  topic: string
  /** What the peer answered so far (arrives in batches, every {@link REPORT_EVERY_MS}). */
  requests: AnsweredPush[]
  /** Forgets what was answered (between runs). */
  clear(): void
  close(): Promise<void>
}

interface Ready {
  type: 'ready'
  port: number
  ca: string
  key: string
  keyId: string
  teamId: string
  topic: string
}
type Report = { type: 'answered'; requests: AnsweredPush[] }

export async function startApnsPeerProcess(failureRate: number, seed: number): Promise<ApnsPeerProcess> {
  const child = fork(fileURLToPath(import.meta.url), ['--child', String(failureRate), String(seed)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const requests: AnsweredPush[] = []
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the APNs peer exited (${code}) before it was ready`)))
    child.on('message', (message: Ready | Report) => {
      if (message.type === 'ready') resolve(message)
      else requests.push(...message.requests)
    })
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    ...ready,
    requests,
    clear: () => {
      requests.length = 0
    },
    async close() {
      child.kill('SIGTERM')
      await exited
    },
  }
}

async function runChild(failureRate: number, seed: number): Promise<void> {
  const peer = await startApnsPeer()
  const gen = prng.create(seed)
  const random = () => prng.real53(gen)
  peer.answer = () => {
    const r = random()
    if (r < failureRate / 2) return { status: 500, reason: 'InternalServerError' }
    if (r < failureRate) return { status: 429, reason: 'TooManyRequests', retryAfter: 1 }
    return { status: 200 }
  }
  let sent = 0
  setInterval(() => {
    if (sent === peer.requests.length) return
    const batch = peer.requests.slice(sent).map((r) => ({
      token: r.token,
      collapseId: r.headers['apns-collapse-id'] ?? '',
      answered: r.answered,
      at: performance.timeOrigin + r.at,
    }))
    sent = peer.requests.length
    process.send?.({ type: 'answered', requests: batch } satisfies Report)
  }, REPORT_EVERY_MS)
  process.on('SIGTERM', () => {
    void peer.close().finally(() => process.exit(0))
  })
  process.on('disconnect', () => process.exit(0))
  const { port, ca, key, keyId, teamId, topic } = peer
  process.send?.({ type: 'ready', port, ca, key, keyId, teamId, topic } satisfies Ready)
}

if (process.argv[2] === '--child') await runChild(Number(process.argv[3]), Number(process.argv[4]))
