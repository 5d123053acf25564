/**
 * Feeds (issue 18): `subjects` subjects with `followers` followers each (set in the comments
 * document by a moderator), a writer per subject commenting at `rate` comments/s in all. The
 * first `openFeeds` followers of each subject have `feed/user:<id>` open with @hocuspocus/provider
 * (the other feeds are written in storage only). Each comment folds into the followers' `comment`
 * item, whose `count` tells which comments a document shows: latency from the write to the
 * follower's feed document (batching window included: medium, 5 s), fan-out throughput (comment →
 * feed deliveries per second, and the feed rows actually written per second), the server's
 * event-loop delay p99 (from the probe) and the storage rows written per comment (activity rows
 * plus feed item rows, from the server's /metrics; one audience row per follower list is left out).
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import { createThread, FEED_ITEMS, followersMap, reply } from '../../protocol/index.ts'
import { ProcessMonitor } from '../lib/proc.ts'
import { parseExposition, total } from '../lib/prometheus.ts'
import { Samples, distribution } from '../lib/stats.ts'
import type { RunContext, RunOutcome, Scenario, ScenarioParams } from '../lib/types.ts'
import { pool, untilTime, waitUntil } from '../lib/wait.ts'

export interface FeedsParams extends ScenarioParams {
  subjects: number
  followers: number
  /** Followers per subject whose feed document is open (and measured). */
  openFeeds: number
  /** Comments per second, over all subjects. */
  rate: number
}

/** The bench server's API key (it registers the moderator who sets the followers). */
const API_KEY = 'bench-feeds-api-key-0123456789'

/** How long feed documents may trail the last comment. */
export const FEEDS_DRAIN_MS = 30_000

/** Follower entries one transaction sets. */
const FOLLOWERS_PER_TRANSACTION = 500

/** Clients connecting at once. */
const CONNECT_CONCURRENCY = 25

/** The server's feed counters: activities recorded, feed rows the fan-out wrote, document batches. */
async function feedCounters(httpUrl: string): Promise<{ activities: number; rows: number; batches: number }> {
  const exposition = parseExposition(await (await fetch(`${httpUrl}/metrics`)).text())
  return {
    activities: total(exposition, 'parley_feed_activities_total', { result: 'recorded' }),
    rows: total(exposition, 'parley_feed_rows_applied_total'),
    batches: total(exposition, 'parley_feed_document_batches_total'),
  }
}

interface Client {
  provider: HocuspocusProvider
  socket: HocuspocusProviderWebsocket
  doc: Y.Doc
}

function connect(url: string, name: string, token: string): Promise<Client> {
  const doc = new Y.Doc()
  const socket = new HocuspocusProviderWebsocket({ url })
  const provider = new HocuspocusProvider({ websocketProvider: socket, name, token, document: doc })
  provider.attach()
  return new Promise((resolve, reject) => {
    provider.on('synced', () => resolve({ provider, socket, doc }))
    provider.on('authenticationFailed', ({ reason }: { reason: string }) => reject(new Error(`${name}: ${reason}`)))
  })
}

function acknowledged(client: Client, timeoutMs: number): Promise<boolean> {
  return waitUntil(() => client.provider.unsyncedChanges === 0, timeoutMs)
}

/** Comments the feed's `comment` item counts. */
function commentCount(doc: Y.Doc): number {
  for (const entry of doc.getArray(FEED_ITEMS)) if (entry instanceof Y.Map && entry.get('type') === 'comment') return Number(entry.get('count')) || 0
  return 0
}

async function run({ server, progress, deadline }: RunContext, params: FeedsParams): Promise<RunOutcome> {
  const clients: Client[] = []
  const subjectIds = Array.from({ length: params.subjects }, (_, s) => `bench-feed-${s}`)
  try {
    progress.update('setting followers')
    const writers = await pool(subjectIds, CONNECT_CONCURRENCY, async (subjectId, s) => {
      const moderator = `mod-${s}`
      // Everyone may read the subject: every follower's feed gets its activity (followers never connect).
      const subject = await fetch(`${server.httpUrl}/api/v1/subjects/${subjectId}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ defaultRole: 'read' }),
      })
      if (subject.status !== 200) throw new Error(`${subjectId}: HTTP ${subject.status}`)
      const put = await fetch(`${server.httpUrl}/api/v1/subjects/${subjectId}/members/${moderator}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'moderate' }),
      })
      if (put.status !== 200) throw new Error(`moderator of ${subjectId}: HTTP ${put.status}`)
      const client = await connect(server.wsUrl, `comments/${subjectId}`, await server.token(moderator))
      clients.push(client)
      for (let from = 0; from < params.followers; from += FOLLOWERS_PER_TRANSACTION) {
        client.doc.transact(() => {
          const followers = followersMap(client.doc)
          for (let i = from; i < Math.min(params.followers, from + FOLLOWERS_PER_TRANSACTION); i++) followers.set(`f-${s}-${i}`, 'follower')
        })
      }
      const { threadId } = createThread({ doc: client.doc, userId: moderator }, 'bench thread')
      if (!(await acknowledged(client, 60_000))) throw new Error(`${subjectId}: followers not acknowledged`)
      return { client, threadId, moderator }
    })
    const feeds = await pool(
      subjectIds.flatMap((_, s) => Array.from({ length: Math.min(params.openFeeds, params.followers) }, (_, i) => ({ s, user: `f-${s}-${i}` }))),
      CONNECT_CONCURRENCY,
      async ({ s, user }) => {
        const client = await connect(server.wsUrl, `feed/user:${user}`, await server.token(user))
        clients.push(client)
        return { s, client }
      },
    )
    const failed = [...writers, ...feeds].filter((r) => r.status === 'rejected')
    if (failed.length > 0) throw new Error(`${failed.length} set-ups failed: ${String((failed[0] as PromiseRejectedResult).reason)}`)
    const subjectsReady = writers.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    const openFeeds = feeds.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))

    // Per subject: when each comment (1-based count) was sent; per feed: the count its document shows.
    const sentAt = subjectIds.map((): number[] => [])
    const latencies = new Samples()
    let received = 0
    for (const { s, client } of openFeeds) {
      let shown = 0
      client.doc.on('update', () => {
        const now = performance.now()
        const count = commentCount(client.doc)
        for (let n = shown + 1; n <= count; n++) {
          const at = sentAt[s]?.[n - 1]
          if (at !== undefined) latencies.add(now - at)
          received++
        }
        shown = Math.max(shown, count)
      })
    }
    const before = await feedCounters(server.httpUrl)
    await server.probe('loop-reset')
    const monitor = new ProcessMonitor(server.pid)
    const interval = 1000 / params.rate
    const total = Math.floor((params.durationMs / 1000) * params.rate)
    const start = performance.now()
    let sent = 0
    for (let seq = 0; seq < total && performance.now() < deadline; seq++) {
      await untilTime(start + seq * interval)
      const s = seq % subjectsReady.length
      const writer = subjectsReady[s]
      if (!writer) break
      sentAt[s]?.push(performance.now())
      reply({ doc: writer.client.doc, userId: writer.moderator }, writer.threadId, `c${seq}`)
      sent++
      if (seq % 50 === 0) progress.update(`commenting ${seq + 1}/${total}`)
    }
    const sendSeconds = (performance.now() - start) / 1000
    const expected = openFeeds.reduce((sum, f) => sum + (sentAt[f.s]?.length ?? 0), 0)
    progress.update('draining')
    await waitUntil(() => received >= expected, Math.min(FEEDS_DRAIN_MS, Math.max(0, deadline - performance.now())))
    const drainedSeconds = (performance.now() - start) / 1000
    const window = monitor.end()
    const loop = await server.probe('loop')
    const after = await feedCounters(server.httpUrl)
    const latency = distribution(latencies)
    const rows = after.rows - before.rows
    const rowsPerComment = sent === 0 ? 0 : (after.activities - before.activities + rows) / sent
    return {
      metrics: {
        commentsPerSec: sent / sendSeconds,
        deliveriesPerSec: (sent * (params.followers + 1)) / drainedSeconds,
        feedRowsPerSec: rows / drainedSeconds,
        documentBatches: after.batches - before.batches,
        feedP50: latency.p50,
        feedP95: latency.p95,
        feedMax: latency.max,
        loopP99: loop.loop.p99,
        loopMax: loop.loop.max,
        rowsPerComment,
        serverCpuPct: window.cpuPct,
        drops: expected - Math.min(received, expected),
      },
      checks: { sent, expected, received: Math.min(received, expected), drops: expected - Math.min(received, expected) },
      notes: [
        `${params.subjects} subject(s) × ${params.followers} followers, ${openFeeds.length} feed documents open; ${sent} comments → ${rows} feed rows written, ${after.batches - before.batches} document batches`,
        ...(received < expected ? [`${expected - received} (feed, comment) pairs never reached an open feed document`] : []),
      ],
    }
  } finally {
    for (const c of clients) {
      c.provider.destroy()
      c.socket.destroy()
    }
  }
}

export const feeds: Scenario<FeedsParams> = {
  name: 'feeds',
  title: 'Feed fan-out',
  description:
    'Followers of one subject (or of many) and a writer commenting at a fixed rate; latency from the comment to a follower’s feed document, fan-out throughput, event-loop delay.',
  sizes: {
    tiny: { subjects: 1, followers: 20, openFeeds: 4, rate: 10, durationMs: 1_000 },
    small: { subjects: 1, followers: 1_000, openFeeds: 20, rate: 20, durationMs: 10_000 },
    default: { subjects: 1, followers: 10_000, openFeeds: 50, rate: 50, durationMs: 30_000 },
    spread: { subjects: 100, followers: 100, openFeeds: 1, rate: 50, durationMs: 30_000 },
  },
  defaultSizes: ['default', 'spread'],
  quickSizes: ['small'],
  servers: ['parley'],
  runs: 1,
  serverEnv: { PARLEY_API_KEY: API_KEY },
  overheadMs: (p) => 60_000 + FEEDS_DRAIN_MS + p.subjects * 200 + p.followers * 2,
  metrics: [
    { key: 'feedP50', label: 'comment to feed document p50', unit: 'ms', better: 'lower' },
    { key: 'feedP95', label: 'comment to feed document p95', unit: 'ms', better: 'lower', primary: true },
    { key: 'feedMax', label: 'comment to feed document max', unit: 'ms', better: 'lower' },
    { key: 'deliveriesPerSec', label: 'fan-out (comment → feed deliveries)', unit: '/s', better: 'higher', primary: true },
    { key: 'feedRowsPerSec', label: 'feed rows written', unit: '/s', better: 'lower' },
    { key: 'documentBatches', label: 'feed document batches written', unit: 'count', better: 'lower' },
    { key: 'loopP99', label: 'server event-loop delay p99', unit: 'ms', better: 'lower', primary: true },
    { key: 'loopMax', label: 'server event-loop delay max', unit: 'ms', better: 'lower' },
    { key: 'rowsPerComment', label: 'storage rows written per comment', unit: 'count', better: 'lower' },
    { key: 'commentsPerSec', label: 'comments', unit: '/s', better: 'higher' },
    { key: 'serverCpuPct', label: 'server CPU', unit: '%', better: 'lower' },
    { key: 'drops', label: 'missing', unit: 'count', better: 'lower' },
  ],
  run,
}
