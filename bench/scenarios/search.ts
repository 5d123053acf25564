/**
 * Search: `comments` comments over `subjects` subjects are written into the Parley server's SQLite
 * file, then the index is built from the stored documents (`reindex`, as `parley reindex` does).
 * Figures: index build time, index size per comment, and p95 query latency for one word, three
 * words of one comment, and a three-letter prefix, both in the engine (the storage call, first
 * page of 20) and over REST (`GET /api/v1/search` end to end: token, access, snippets). Every
 * query is drawn from a written comment, so each must find at least one result. Then `live`
 * comments are written through a provider: write-to-findable latency, and the indexing cost per
 * transaction on the server (bench/lib/search-live.ts).
 */
import { parseQuery } from '../../core/search/query.ts'
import { reindex } from '../../server/search/reindex.ts'
import { SqliteStorage } from '../../server/storage/sqlite/index.ts'
import { ProcessMonitor } from '../lib/proc.ts'
import { queryFrom, random, writeCorpus, type QueryKind } from '../lib/search-corpus.ts'
import { measureLive } from '../lib/search-live.ts'
import { Samples, distribution } from '../lib/stats.ts'
import type { RunContext, RunOutcome, Scenario, ScenarioParams } from '../lib/types.ts'

export interface SearchParams extends ScenarioParams {
  subjects: number
  comments: number
  /** Queries of each kind, in the engine and over REST each. */
  queries: number
  /** Comments written live, one after another, each waited for until findable. */
  live: number
}

/** Users the REST queries rotate over (each user's REST rate is limited). */
const QUERY_USERS = 100

/** Results per query, as a client's first page. */
const PAGE = 20

const KINDS: readonly QueryKind[] = ['oneWord', 'threeWords', 'prefix']

async function run({ server, progress, deadline }: RunContext, params: SearchParams): Promise<RunOutcome> {
  if (!server.dataDir) throw new Error('the search scenario needs a Parley server with a data directory')
  const storage = SqliteStorage.inDataDir(server.dataDir)
  try {
    progress.update(`writing ${params.comments} comments over ${params.subjects} subjects`)
    const corpus = await writeCorpus(storage, params.subjects, params.comments)
    progress.update('building the index')
    const buildStarted = performance.now()
    const built = await reindex(storage, null)
    const buildSeconds = (performance.now() - buildStarted) / 1000
    const stats = await storage.search.stats()
    const next = random(7)
    const metrics: Record<string, number> = {
      comments: built.entries,
      buildSeconds,
      commentsPerSec: built.entries / buildSeconds,
      indexBytesPerComment: stats.bytes / Math.max(1, stats.entries),
    }
    let sent = 0
    let received = 0
    const monitor = new ProcessMonitor(server.pid)
    for (const kind of KINDS) {
      const engine = new Samples()
      const overRest = new Samples()
      for (let i = 0; i < params.queries && performance.now() < deadline; i++) {
        const text = corpus.texts[Math.floor(next() * corpus.texts.length)] ?? ''
        const q = queryFrom(kind, text, next)
        const parsed = parseQuery(q)
        if (!parsed.ok) throw new Error(`bench query "${q}" refused: ${parsed.error.message}`)
        let started = performance.now()
        await storage.search.query(parsed.value, { subjectId: null, limit: PAGE, after: null })
        engine.add(performance.now() - started)
        const token = await server.token(`searcher-${i % QUERY_USERS}`)
        started = performance.now()
        const response = await fetch(`${server.httpUrl}/api/v1/search?q=${encodeURIComponent(q)}&limit=${PAGE}`, {
          headers: { authorization: `Bearer ${token}` },
        })
        const body = (await response.json()) as { results?: unknown[] }
        overRest.add(performance.now() - started)
        sent++
        if (response.status === 200 && (body.results?.length ?? 0) > 0) received++
      }
      metrics[`${kind}EngineP95`] = distribution(engine).p95
      metrics[`${kind}RestP95`] = distribution(overRest).p95
      metrics[`${kind}RestP50`] = distribution(overRest).p50
      progress.update(`${kind}: engine p95 ${metrics[`${kind}EngineP95`]?.toFixed(2)} ms`)
    }
    metrics.serverCpuPct = monitor.end().cpuPct
    progress.update(`writing ${params.live} live comments`)
    const live = await measureLive(server, params.live, deadline)
    const findable = distribution(live.findable)
    Object.assign(metrics, {
      findableP50: findable.p50,
      findableP95: findable.p95,
      findableMax: findable.max,
      diffUs: live.diffUs,
      indexWriteMs: live.indexWriteMs,
    })
    metrics.drops = sent - received + live.missing
    sent += params.live
    received += live.findable.count
    return {
      metrics,
      checks: { sent, expected: sent, received, drops: sent - received },
      notes: sent > received ? [`${sent - received} queries found nothing, or live comments were not findable in time`] : [],
    }
  } finally {
    await storage.close()
  }
}

export const search: Scenario<SearchParams> = {
  name: 'search',
  title: 'Search over comments',
  description:
    'Comments over subjects written into storage; index build time, index size per comment, p95 query latency (1 word, 3 words, prefix) in the engine and over REST.',
  sizes: {
    tiny: { subjects: 10, comments: 500, queries: 20, live: 5, durationMs: 5_000 },
    default: { subjects: 200, comments: 20_000, queries: 200, live: 50, durationMs: 60_000 },
    large: { subjects: 1_000, comments: 100_000, queries: 300, live: 100, durationMs: 300_000 },
  },
  defaultSizes: ['default'],
  quickSizes: ['default'],
  servers: ['parley'],
  runs: 1,
  overheadMs: (p) => 30_000 + p.comments,
  metrics: [
    { key: 'buildSeconds', label: 'index build', unit: 's', better: 'lower', primary: true },
    { key: 'commentsPerSec', label: 'indexed', unit: '/s', better: 'higher' },
    { key: 'indexBytesPerComment', label: 'index size per comment', unit: 'count', better: 'lower', primary: true },
    { key: 'oneWordEngineP95', label: '1 word p95 (engine)', unit: 'ms', better: 'lower', primary: true },
    { key: 'threeWordsEngineP95', label: '3 words p95 (engine)', unit: 'ms', better: 'lower', primary: true },
    { key: 'prefixEngineP95', label: 'prefix p95 (engine)', unit: 'ms', better: 'lower', primary: true },
    { key: 'oneWordRestP95', label: '1 word p95 (REST)', unit: 'ms', better: 'lower' },
    { key: 'threeWordsRestP95', label: '3 words p95 (REST)', unit: 'ms', better: 'lower' },
    { key: 'prefixRestP95', label: 'prefix p95 (REST)', unit: 'ms', better: 'lower' },
    { key: 'oneWordRestP50', label: '1 word p50 (REST)', unit: 'ms', better: 'lower' },
    { key: 'findableP95', label: 'write to findable p95', unit: 'ms', better: 'lower', primary: true },
    { key: 'findableP50', label: 'write to findable p50', unit: 'ms', better: 'lower' },
    { key: 'findableMax', label: 'write to findable max', unit: 'ms', better: 'lower' },
    { key: 'diffUs', label: 'indexing diff per transaction (writer’s path)', unit: 'µs', better: 'lower', primary: true },
    { key: 'indexWriteMs', label: 'batched index write', unit: 'ms', better: 'lower' },
    { key: 'comments', label: 'comments indexed', unit: 'count', better: 'higher' },
    { key: 'serverCpuPct', label: 'server CPU', unit: '%', better: 'lower' },
    { key: 'drops', label: 'queries without results', unit: 'count', better: 'lower' },
  ],
  run,
}
