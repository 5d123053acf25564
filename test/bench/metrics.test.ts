/**
 * /metrics: Prometheus text that parses, whose counters move when real clients connect and write,
 * behind PARLEY_METRICS_TOKEN when one is set. And the slow-hook warning with document and user.
 */
import { Writable } from 'node:stream'
import type { Extension } from '@hocuspocus/server'
import { pino, type Logger } from 'pino'
import { afterEach, describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import { parseExposition, total, type Exposition } from '../../bench/lib/prometheus.ts'
import { instrumentExtension } from '../../server/observability/hooks.ts'
import { createMetrics } from '../../server/observability/metrics.ts'
import { acknowledged, connectSynced, type TestClient } from '../helpers/provider.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const running: Array<TestServer | TestClient> = []

afterEach(async () => {
  for (const item of running.splice(0).reverse()) {
    if ('provider' in item) item.destroy()
    else await item.dispose()
  }
})

async function scrape(server: TestServer, token?: string): Promise<Exposition> {
  const response = await fetch(`${server.server.httpUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
  return parseExposition(await response.text())
}

function addComment(doc: Y.Doc, id: string): void {
  doc.transact(() => {
    const thread = new Y.Map<unknown>()
    const comment = new Y.Map<unknown>()
    comment.set('id', `${id}-c`)
    comment.set('authorId', 'ana')
    comment.set('createdAt', Date.now())
    comment.set('body', new Y.Text('hello'))
    comment.set('reactions', new Y.Map())
    const comments = new Y.Array<Y.Map<unknown>>()
    comments.push([comment])
    for (const [key, value] of Object.entries({ id, createdBy: 'ana', createdAt: Date.now() })) thread.set(key, value)
    thread.set('comments', comments)
    thread.set('subscribers', new Y.Map())
    thread.set('readBy', new Y.Map())
    thread.set('metadata', new Y.Map())
    doc.getMap('threads').set(id, thread)
  })
}

describe('/metrics', () => {
  test('parses as Prometheus text and its counters move with connections and writes', async () => {
    const server = await startServer()
    running.push(server)
    const before = await scrape(server)
    for (const family of [
      'parley_connections',
      'parley_documents_loaded',
      'parley_messages_in_total',
      'parley_messages_out_total',
      'parley_update_bytes',
      'parley_broadcast_seconds',
      'parley_storage_append_seconds',
      'parley_storage_compaction_seconds',
      'parley_hook_duration_seconds',
      'parley_nodejs_eventloop_lag_seconds',
    ]) {
      expect(before.families.has(family), `${family} is exposed`).toBe(true)
    }
    expect(total(before, 'parley_connections')).toBe(0)

    const url = server.server.webSocketUrl
    const writer = await connectSynced(url, 'comments/metrics', await server.token('ana'))
    running.push(writer)
    const reader = await connectSynced(url, 'comments/metrics', await server.token('ben'))
    running.push(reader)
    addComment(writer.doc, 'thread-1')
    await acknowledged(writer)
    await waitFor(() => reader.doc.getMap('threads').has('thread-1'), 'the reader received the comment')

    const after = await scrape(server)
    expect(total(after, 'parley_connections')).toBe(2)
    expect(total(after, 'parley_documents_loaded')).toBe(1)
    expect(total(after, 'parley_messages_in_total', { type: 'sync_update' })).toBeGreaterThanOrEqual(1)
    expect(total(after, 'parley_messages_in_total')).toBeGreaterThan(total(before, 'parley_messages_in_total'))
    expect(total(after, 'parley_messages_out_total', { kind: 'update' })).toBeGreaterThanOrEqual(2)
    expect(total(after, 'parley_broadcast_seconds_count')).toBeGreaterThanOrEqual(1)
    expect(total(after, 'parley_update_bytes_count')).toBeGreaterThanOrEqual(1)
    expect(total(after, 'parley_update_bytes_sum')).toBeGreaterThan(100)
    expect(total(after, 'parley_storage_append_seconds_count')).toBeGreaterThan(total(before, 'parley_storage_append_seconds_count'))
    expect(total(after, 'parley_hook_duration_seconds_count', { extension: 'parley-auth', hook: 'onAuthenticate' })).toBe(2)
  })

  test('asks for the bearer PARLEY_METRICS_TOKEN when one is configured', async () => {
    const server = await startServer({ metricsToken: 'metrics-secret' })
    running.push(server)
    const refused = await fetch(`${server.server.httpUrl}/metrics`)
    expect(refused.status).toBe(401)
    await refused.body?.cancel()
    const exposition = await scrape(server, 'metrics-secret')
    expect(exposition.samples.length).toBeGreaterThan(0)
  })
})

describe('hook timing', () => {
  function capture(): { logger: Logger; lines: Array<Record<string, unknown>> } {
    const lines: Array<Record<string, unknown>> = []
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
        done()
      },
    })
    return { logger: pino({ level: 'warn' }, stream), lines }
  }

  const payload = { documentName: 'comments/slow', socketId: 's1', context: { user: { id: 'ana' } } }

  /** Calls a wrapped hook with a plain payload (the wrapper passes it through untouched). */
  function callHook(extension: Extension, name: 'onChange' | 'onAuthenticate'): Promise<unknown> {
    const hook: unknown = Reflect.get(extension, name)
    if (typeof hook !== 'function') throw new Error(`${name} is not wrapped`)
    return Promise.resolve(hook.call(extension, payload) as unknown)
  }

  test('a hook slower than the threshold logs a warning with the document name and user id', async () => {
    const { logger, lines } = capture()
    const metrics = createMetrics({ connections: () => 0, documents: () => 0 })
    const extension: Extension = { extensionName: 'slow-one', priority: 7, onChange: async () => 'done' }
    const timed = instrumentExtension(extension, { logger, metrics: metrics.hooks, slowHookMs: -1 })
    expect(timed.priority).toBe(7)
    expect(await callHook(timed, 'onChange')).toBe('done')
    await waitFor(() => lines.length === 1, 'the warning')
    expect(lines[0]).toMatchObject({ level: 40, msg: 'slow hook', documentName: 'comments/slow', userId: 'ana', hook: 'onChange', extension: 'slow-one' })
    const exposition = parseExposition(await metrics.registry.metrics())
    expect(total(exposition, 'parley_slow_hooks_total', { extension: 'slow-one', hook: 'onChange' })).toBe(1)
  })

  test('a fast hook logs nothing, and errors pass through unchanged', async () => {
    const { logger, lines } = capture()
    const metrics = createMetrics({ connections: () => 0, documents: () => 0 })
    const refusal = new Error('refused')
    const extension: Extension = {
      extensionName: 'strict',
      onAuthenticate: async () => {
        throw refusal
      },
    }
    const timed = instrumentExtension(extension, { logger, metrics: metrics.hooks, slowHookMs: 60_000 })
    await expect(callHook(timed, 'onAuthenticate')).rejects.toBe(refusal)
    expect(lines).toHaveLength(0)
    const exposition = parseExposition(await metrics.registry.metrics())
    expect(total(exposition, 'parley_hook_duration_seconds_count', { extension: 'strict', hook: 'onAuthenticate' })).toBe(1)
  })

  test('a synchronous hook is timed and answered synchronously, its throw passed on as thrown', () => {
    const { logger } = capture()
    const metrics = createMetrics({ connections: () => 0, documents: () => 0 })
    const refusal = new Error('not now')
    const extension = {
      extensionName: 'sync-one',
      onChange: () => 'answered',
      onAuthenticate: () => {
        throw refusal
      },
    } as unknown as Extension
    const timed = instrumentExtension(extension, { logger, metrics: metrics.hooks, slowHookMs: 60_000 })
    const onChange: unknown = Reflect.get(timed, 'onChange')
    const onAuthenticate: unknown = Reflect.get(timed, 'onAuthenticate')
    if (typeof onChange !== 'function' || typeof onAuthenticate !== 'function') throw new Error('not wrapped')
    expect(onChange.call(timed, payload)).toBe('answered')
    expect(() => onAuthenticate.call(timed, payload) as unknown).toThrow(refusal)
    return metrics.registry.metrics().then((text) => {
      const exposition = parseExposition(text)
      expect(total(exposition, 'parley_hook_duration_seconds_count', { extension: 'sync-one', hook: 'onChange' })).toBe(1)
      expect(total(exposition, 'parley_hook_duration_seconds_count', { extension: 'sync-one', hook: 'onAuthenticate' })).toBe(1)
    })
  })
})
