/**
 * The bench's servers bind port 0 and report the port they got (bench/servers/probe.ts), so that a
 * test or run beside them cannot take a port between the bench choosing it and the server binding
 * it (the flake of a free-port-then-spawn harness). Every kind, started at once: each was given
 * PORT=0, answers GET /health on the port it reported, and no two share one.
 */
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { SERVER_KINDS, isServerKind, kindsIn, removedExtensions, startServer, type TargetServer } from '../../bench/lib/servers.ts'

/** The environment a process started with (/proc/<pid>/environ). */
function environmentOf(pid: number): Record<string, string> {
  const env: Record<string, string> = {}
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=')
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1)
  }
  return env
}

describe('bench servers', () => {
  const started: TargetServer[] = []
  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.stop()))
  })

  it('bind port 0 and report the port they listen on, every kind at once', async () => {
    const kinds = [...SERVER_KINDS, 'parley-unguarded', 'parley-without-search+feeds'] as const
    started.push(...(await Promise.all(kinds.map((kind) => startServer(kind)))))
    const ports = new Set<number>()
    for (const server of started) {
      expect(environmentOf(server.pid).PORT, `${server.kind} was told to bind port 0`).toBe('0')
      const port = Number(new URL(server.httpUrl).port)
      expect(port).toBeGreaterThan(0)
      expect(server.wsUrl).toBe(`ws://127.0.0.1:${port}`)
      ports.add(port)
      const health = await fetch(`${server.httpUrl}/health`)
      await health.body?.cancel()
      expect(health.ok, `${server.kind} answers on the port it reported`).toBe(true)
    }
    expect(ports.size).toBe(kinds.length)
    // Each measuring server was told which extensions to remove (it refuses to start when one is missing).
    const removed = started.map((server) => environmentOf(server.pid).BENCH_PARLEY_WITHOUT)
    expect(removed).toEqual([undefined, undefined, undefined, 'parley-guard', 'parley-search,parley-feeds'])
    for (const server of started) await server.stop()
    expect(started.every((server) => server.exited)).toBe(true)
  }, 60_000)

  it('name the extensions a measuring Parley goes without; anything else is not a server', () => {
    expect(removedExtensions('parley-without-guard+search+mentions')).toEqual(['parley-guard', 'parley-search', 'parley-mentions'])
    expect(removedExtensions('parley-unsearched')).toEqual(['parley-search'])
    expect(removedExtensions('parley')).toBeUndefined()
    expect(isServerKind('parley-without-guard+bogus')).toBe(false)
    expect(isServerKind('parley-without-')).toBe(false)
    expect(isServerKind('parley-without-durability')).toBe(true)
    expect(kindsIn({ 'parley-without-feeds': {}, parley: {}, 'raw-ws': {} })).toEqual(['raw-ws', 'parley', 'parley-without-feeds'])
  })
})
