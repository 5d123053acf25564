/**
 * Activity: the mentions scenario widened to every activity kind. `documents` subjects, each
 * followed by the same `followers` users (the first `hosts` of them hosts); `writers` per subject
 * start threads (every follower and host hears a `thread`), reply (participants hear a `reply`,
 * hosts a `comment`) and react (the comment's author hears a `reaction`), `rate` activities per
 * second in all. The first `watchers` followers (hosts first) keep their inbox open: latency from
 * the write to their inbox document showing it (thread starts and comments, by the preview).
 * Notifications recorded per second and CPU per activity come from the server's /metrics and
 * /proc.
 */
import * as Y from 'yjs'
import { createThread, followersMap, INBOX_NOTIFICATIONS, react, reply } from '../../protocol/index.ts'
import { ProcessMonitor } from '../lib/proc.ts'
import { parseExposition, total } from '../lib/prometheus.ts'
import { connectProvider, destroyProviders, type ProviderClient } from '../lib/provider-client.ts'
import { Samples, distribution } from '../lib/stats.ts'
import type { RunContext, RunOutcome, Scenario, ScenarioParams } from '../lib/types.ts'
import { pool, untilTime, waitUntil } from '../lib/wait.ts'

export interface ActivityParams extends ScenarioParams {
  documents: number
  followers: number
  hosts: number
  writers: number
  watchers: number
  /** Activities per second, over all documents. */
  rate: number
  warmupMs: number
}

/** How long inbox entries may trail the last activity. */
export const ACTIVITY_DRAIN_MS = 10_000
/** Clients connecting at once. */
const CONNECT_CONCURRENCY = 25
/** Subjects prepared at once. */
const PREPARE_CONCURRENCY = 5
const RECORDED = 'parley_notifications_recorded_total'
const SEQ = /^a(\d+) /
const EMOJI = ['👍', '❤️', '🎉', '👀', '🚀']

/** What each tenth of the activities is: one thread start, six replies, three reactions. */
function kindOf(seq: number): 'thread' | 'reply' | 'reaction' {
  const slot = seq % 10
  return slot < 1 ? 'thread' : slot < 7 ? 'reply' : 'reaction'
}

interface Subject {
  writers: ProviderClient[]
  threadId: string
  /** The latest comment, and its author's index. */
  latest: { commentId: string; writer: number }
}

async function recordedTotal(httpUrl: string): Promise<number> {
  return total(parseExposition(await (await fetch(`${httpUrl}/metrics`)).text()), RECORDED)
}

/** Every follower connects once (the server remembers who they are); watchers keep their inbox open. */
async function connectFollowers(ctx: RunContext, params: ActivityParams, onEntry: (seq: number, now: number) => void) {
  const results = await pool(
    Array.from({ length: params.followers }, (_, i) => i),
    CONNECT_CONCURRENCY,
    async (i) => {
      const client = await connectProvider(ctx.server.wsUrl, `inbox/f-${i}`, await ctx.server.token(`f-${i}`))
      if (i >= params.watchers) {
        destroyProviders([client])
        return null
      }
      const notifications = client.doc.getMap(INBOX_NOTIFICATIONS)
      client.doc.on('update', () => {
        const now = performance.now()
        for (const entry of notifications.values()) {
          const match = entry instanceof Y.Map ? SEQ.exec(String(entry.get('preview'))) : null
          if (match) onEntry(Number(match[1]), now)
        }
      })
      return client
    },
  )
  if (results.some((r) => r.status === 'rejected')) throw new Error('followers could not connect')
  return results.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []))
}

/** Each writer connects and the first starts a thread; then a moderator makes the followers and hosts (so the set-up notifies nobody). */
async function prepareSubject(ctx: RunContext, params: ActivityParams, d: number): Promise<Subject> {
  const name = `comments/bench-activity-${d}`
  const writers: ProviderClient[] = []
  for (let w = 0; w < params.writers; w++) writers.push(await connectProvider(ctx.server.wsUrl, name, await ctx.server.token(`w-${d}-${w}`)))
  const first = writers[0]
  if (!first) throw new Error('no writers')
  const { threadId, commentId } = createThread({ doc: first.doc, userId: `w-${d}-0` }, 'a first thread')
  await waitUntil(() => first.provider.unsyncedChanges === 0, 10_000)
  const moderator = await connectProvider(ctx.server.wsUrl, name, await ctx.server.token(`mod-${d}`, { '*': 'moderate' }))
  const followers = followersMap(moderator.doc)
  moderator.doc.transact(() => {
    for (let i = 0; i < params.followers; i++) followers.set(`f-${i}`, i < params.hosts ? 'host' : 'follower')
  })
  await waitUntil(() => moderator.provider.unsyncedChanges === 0, 10_000)
  destroyProviders([moderator])
  return { writers, threadId, latest: { commentId, writer: 0 } }
}

/** Writes activity `seq` in its subject: a thread start, a reply, or a reaction to the latest comment. */
function act(subject: Subject, d: number, seq: number, writers: number): void {
  const w = Math.floor(seq / 10) % writers
  const writer = subject.writers[w]
  if (!writer) return
  const ctx = { doc: writer.doc, userId: `w-${d}-${w}` }
  const kind = kindOf(seq)
  if (kind === 'thread') {
    const started = createThread(ctx, `a${seq} a new topic`)
    subject.threadId = started.threadId
    subject.latest = { commentId: started.commentId, writer: w }
  } else if (kind === 'reply') {
    subject.latest = { commentId: reply(ctx, subject.threadId, `a${seq} a reply`).commentId, writer: w }
  } else if (subject.latest.writer !== w && writer.doc.getMap('threads').has(subject.threadId)) {
    react(ctx, subject.threadId, subject.latest.commentId, EMOJI[seq % EMOJI.length] ?? '👍')
  }
}

async function run(ctx: RunContext, params: ActivityParams): Promise<RunOutcome> {
  const sentAt = new Map<number, number>()
  const seen = new Set<number>()
  const latencies = new Samples()
  let measureFrom = Number.POSITIVE_INFINITY
  const clients: ProviderClient[] = []
  try {
    clients.push(
      ...(await connectFollowers(ctx, params, (seq, now) => {
        const at = sentAt.get(seq)
        if (at === undefined || seen.has(seq)) return
        seen.add(seq)
        if (at >= measureFrom) latencies.add(now - at)
      })),
    )
    let prepared = 0
    const made = await pool(
      Array.from({ length: params.documents }, (_, d) => d),
      PREPARE_CONCURRENCY,
      async (d) => {
        const subject = await prepareSubject(ctx, params, d)
        clients.push(...subject.writers)
        ctx.progress.update(`prepared subject ${++prepared}/${params.documents}`)
        return subject
      },
    )
    if (made.some((r) => r.status === 'rejected')) throw new Error('subjects could not be prepared')
    const subjects = made.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    const interval = 1000 / params.rate
    const warmup = Math.ceil(params.warmupMs / interval)
    const count = warmup + Math.floor((params.durationMs / 1000) * params.rate)
    const start = performance.now()
    let monitor: ProcessMonitor | undefined
    let recordedBefore = 0
    let measured = 0
    for (let seq = 0; seq < count && performance.now() < ctx.deadline; seq++) {
      await untilTime(start + seq * interval)
      if (seq === warmup) {
        recordedBefore = await recordedTotal(ctx.server.httpUrl)
        monitor = new ProcessMonitor(ctx.server.pid)
        measureFrom = performance.now()
      }
      const d = seq % params.documents
      const subject = subjects[d]
      if (!subject) break
      // Thread starts and replies are what the watchers (hosts first) see; reactions go to writers.
      if (kindOf(seq) !== 'reaction') sentAt.set(seq, performance.now())
      act(subject, d, seq, params.writers)
      if (seq >= warmup) measured++
      if (seq % 50 === 0) ctx.progress.update(`${seq < warmup ? 'warming up' : 'writing'} ${seq + 1}/${count}`)
    }
    const window = (monitor ?? new ProcessMonitor(ctx.server.pid)).end()
    const recorded = (await recordedTotal(ctx.server.httpUrl)) - recordedBefore
    ctx.progress.update('draining')
    const expected = [...sentAt.keys()].length
    await waitUntil(() => seen.size >= expected, Math.min(ACTIVITY_DRAIN_MS, Math.max(0, ctx.deadline - performance.now())))
    const latency = distribution(latencies)
    const missing = expected - seen.size
    return {
      metrics: {
        activitiesPerSec: measured / window.seconds,
        notificationsPerSec: recorded / window.seconds,
        inboxP50: latency.p50,
        inboxP95: latency.p95,
        inboxP99: latency.p99,
        cpuMsPerActivity: measured > 0 ? ((window.cpuPct / 100) * window.seconds * 1000) / measured : 0,
        serverCpuPct: window.cpuPct,
        drops: missing,
      },
      checks: { sent: expected, expected, received: seen.size, drops: missing },
      notes: missing > 0 ? [`${missing} thread starts or replies never reached a watched inbox`] : [],
    }
  } finally {
    destroyProviders(clients)
  }
}

export const activity: Scenario<ActivityParams> = {
  name: 'activity',
  title: 'Mixed activity to inboxes',
  description:
    'Thread starts, replies and reactions across N subjects followed by the same users; notifications recorded per second, write-to-inbox latency and CPU per activity.',
  sizes: {
    tiny: { documents: 2, followers: 6, hosts: 2, writers: 3, watchers: 3, rate: 20, warmupMs: 200, durationMs: 1_000 },
    default: { documents: 50, followers: 200, hosts: 10, writers: 4, watchers: 20, rate: 100, warmupMs: 3_000, durationMs: 15_000 },
  },
  defaultSizes: ['default'],
  quickSizes: ['default'],
  servers: ['parley'],
  overheadMs: (p) => 120_000 + p.warmupMs + ACTIVITY_DRAIN_MS,
  metrics: [
    { key: 'inboxP50', label: 'write to inbox p50', unit: 'ms', better: 'lower' },
    { key: 'inboxP95', label: 'write to inbox p95', unit: 'ms', better: 'lower', primary: true },
    { key: 'inboxP99', label: 'write to inbox p99', unit: 'ms', better: 'lower' },
    { key: 'notificationsPerSec', label: 'notifications recorded', unit: '/s', better: 'higher', primary: true },
    { key: 'activitiesPerSec', label: 'activities', unit: '/s', better: 'higher' },
    { key: 'cpuMsPerActivity', label: 'server CPU per activity', unit: 'ms', better: 'lower' },
    { key: 'serverCpuPct', label: 'server CPU', unit: '%', better: 'lower' },
    { key: 'drops', label: 'missing', unit: 'count', better: 'lower' },
  ],
  run,
}
