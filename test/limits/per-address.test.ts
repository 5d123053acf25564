/**
 * Per-address admission of WebSocket upgrades: concurrent sockets (`PARLEY_CONNECTIONS_PER_ADDRESS`)
 * and the upgrade rate, both answered 429 `rate_limited`; 0 lifts both.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import { loadConfig } from '../../server/config.ts'
import { CONNECTIONS_PER_ADDRESS, UPGRADE_BURST_PER_ADDRESS, UPGRADES_PER_ADDRESS_PER_SECOND } from '../../server/http/connection-limits.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { admitted, upgrade, type Closed } from './sockets.ts'

describe('connections per address', () => {
  let s: TestServer | undefined
  const open: WebSocket[] = []
  afterEach(async () => {
    for (const ws of open.splice(0)) ws.terminate()
    await s?.dispose()
    s = undefined
  })

  it('defaults to the contract floor of 256 concurrent sockets, 20 upgrades/s with a burst of 200', () => {
    expect(CONNECTIONS_PER_ADDRESS).toBe(256)
    expect(UPGRADES_PER_ADDRESS_PER_SECOND).toBe(20)
    expect(UPGRADE_BURST_PER_ADDRESS).toBe(200)
    expect(loadConfig({})).toMatchObject({ ok: true, value: { connectionsPerAddress: 256 } })
  })

  it('refuses the socket past the limit with 429 rate_limited, and admits again once one closes', async () => {
    s = await startServer({ connectionsPerAddress: 3 })
    const url = s.server.webSocketUrl
    const held: Array<{ ws: WebSocket; closed: Promise<Closed> }> = []
    for (let i = 0; i < 3; i++) held.push(await admitted(url))
    open.push(...held.map((h) => h.ws))
    const refused = await upgrade(url)
    expect(refused.ok).toBe(false)
    if (refused.ok) return
    expect(refused.status).toBe(429)
    expect(refused.headers['content-type']).toBe('application/json')
    expect(JSON.parse(refused.body)).toEqual({ error: { code: 'rate_limited', message: 'too many open connections from this address (at most 3)' } })
    expect(await s.server.metrics.registry.getSingleMetricAsString('parley_upgrades_refused_total')).toContain('reason="per_address"} 1')
    // Closing one frees its place (counted until its TCP socket is closed).
    held[0]?.ws.close()
    await held[0]?.closed
    let again: Awaited<ReturnType<typeof upgrade>> | undefined
    await waitFor(async () => {
      const attempt = await upgrade(url)
      if (attempt.ok) open.push(attempt.ws)
      again = attempt
      return attempt.ok
    }, 'a socket admitted after one closed')
    expect(again?.ok).toBe(true)
  })

  it('with 0, admits more sockets from one address than the default limit and the upgrade burst', async () => {
    s = await startServer({ connectionsPerAddress: 0 })
    const count = CONNECTIONS_PER_ADDRESS + 20
    const results = await Promise.all(Array.from({ length: count }, () => upgrade(s!.server.webSocketUrl)))
    for (const result of results) if (result.ok) open.push(result.ws)
    expect(results.filter((result) => !result.ok)).toEqual([])
    expect(open).toHaveLength(count)
  })

  it('throttles upgrade attempts per address with 429 and Retry-After', async () => {
    s = await startServer({ connections: { upgrades: { upgradesPerSecond: 0.1, upgradeBurst: 3 } } })
    const results = await Promise.all(Array.from({ length: 6 }, () => upgrade(s!.server.webSocketUrl)))
    for (const result of results) if (result.ok) open.push(result.ws)
    expect(results.filter((result) => result.ok)).toHaveLength(3)
    const refused = results.flatMap((result) => (result.ok ? [] : [result]))
    expect(refused).toHaveLength(3)
    for (const result of refused) {
      expect(result.status).toBe(429)
      expect(result.headers['retry-after']).toBe('10')
      expect(JSON.parse(result.body)).toEqual({ error: { code: 'rate_limited', message: 'too many connection attempts from this address' } })
    }
    expect(await s.server.metrics.registry.getSingleMetricAsString('parley_upgrades_refused_total')).toContain('reason="rate"} 3')
  })
})
