/**
 * The live part of the search benchmark: comments written one after another through a real
 * @hocuspocus/provider, each with a word of its own; the time from the local write until
 * `GET /api/v1/search` finds it, and the indexing cost on the server from its own metrics (the
 * synchronous diff per transaction, the batched index write).
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import { createThread, reply } from '../../protocol/index.ts'
import { parseExposition, total } from './prometheus.ts'
import type { TargetServer } from './servers.ts'
import { Samples } from './stats.ts'
import { waitUntil } from './wait.ts'

/** Longest a comment may take to become findable before it counts as missing (the contract says 2 s). */
const FINDABLE_TIMEOUT_MS = 5_000

/** Least time between two polls for one comment. */
const POLL_MS = 20

/** Users the polls rotate over (each user's REST rate is limited). */
const POLL_USERS = 50

export interface LiveFigures {
  /** Write-to-findable latencies, ms. */
  findable: Samples
  missing: number
  /** Mean synchronous diff per transaction, µs. */
  diffUs: number
  /** Mean batched index write, ms. */
  indexWriteMs: number
}

async function indexingTotals(httpUrl: string): Promise<Record<'diffSum' | 'diffCount' | 'writeSum' | 'writeCount', number>> {
  const exposition = parseExposition(await (await fetch(`${httpUrl}/metrics`)).text())
  return {
    diffSum: total(exposition, 'parley_search_diff_seconds_sum'),
    diffCount: total(exposition, 'parley_search_diff_seconds_count'),
    writeSum: total(exposition, 'parley_search_index_write_seconds_sum'),
    writeCount: total(exposition, 'parley_search_index_write_seconds_count'),
  }
}

export async function measureLive(server: TargetServer, comments: number, deadline: number): Promise<LiveFigures> {
  const doc = new Y.Doc()
  const socket = new HocuspocusProviderWebsocket({ url: server.wsUrl })
  const provider = new HocuspocusProvider({ websocketProvider: socket, name: 'comments/bench-search-live', token: await server.token('writer'), document: doc })
  provider.attach()
  try {
    await new Promise<void>((resolve, reject) => {
      provider.on('synced', () => resolve())
      provider.on('authenticationFailed', ({ reason }: { reason: string }) => reject(new Error(reason)))
    })
    const before = await indexingTotals(server.httpUrl)
    const { threadId } = createThread({ doc, userId: 'writer' }, 'live comments')
    const findable = new Samples()
    let missing = 0
    let polls = 0
    for (let i = 0; i < comments && performance.now() < deadline; i++) {
      const word = `livebench${i}x`
      const started = performance.now()
      reply({ doc, userId: 'writer' }, threadId, `a live comment ${word} written now`)
      let last = 0
      const found = await waitUntil(async () => {
        if (performance.now() - last < POLL_MS) return false
        last = performance.now()
        const token = await server.token(`poller-${polls++ % POLL_USERS}`)
        const answer = await fetch(`${server.httpUrl}/api/v1/search?q=${word}`, { headers: { authorization: `Bearer ${token}` } })
        const body = (await answer.json()) as { results?: unknown[] }
        return (body.results?.length ?? 0) > 0
      }, FINDABLE_TIMEOUT_MS)
      if (found) findable.add(performance.now() - started)
      else missing++
    }
    const after = await indexingTotals(server.httpUrl)
    return {
      findable,
      missing,
      diffUs: ((after.diffSum - before.diffSum) / Math.max(1, after.diffCount - before.diffCount)) * 1e6,
      indexWriteMs: ((after.writeSum - before.writeSum) / Math.max(1, after.writeCount - before.writeCount)) * 1e3,
    }
  } finally {
    provider.destroy()
    socket.destroy()
  }
}
