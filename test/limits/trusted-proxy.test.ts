/**
 * Behind a trusted proxy (`PARLEY_TRUSTED_PROXIES`), per-address limits count the client named by
 * `X-Forwarded-For`; from any other peer the header is ignored.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import { loadConfig } from '../../server/config.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { upgrade } from './sockets.ts'

describe('trusted proxies', () => {
  let s: TestServer | undefined
  const open: WebSocket[] = []
  afterEach(async () => {
    for (const ws of open.splice(0)) ws.terminate()
    await s?.dispose()
    s = undefined
  })

  async function statuses(url: string, forwardedFor: string[]): Promise<number[]> {
    const result: number[] = []
    // One at a time, so that the order of admission is the order of the list.
    for (const value of forwardedFor) {
      const attempt = await upgrade(url, { 'x-forwarded-for': value })
      if (attempt.ok) open.push(attempt.ws)
      result.push(attempt.ok ? 101 : attempt.status)
    }
    return result
  }

  it('counts each forwarded client on its own when the peer is a trusted proxy', async () => {
    s = await startServer({ connectionsPerAddress: 2, trustedProxies: ['127.0.0.0/8'] })
    const url = s.server.webSocketUrl
    // The client's own entries (left of its address) change nothing: 203.0.113.5 is the client.
    expect(await statuses(url, ['203.0.113.5', '198.51.100.1, 203.0.113.5', '203.0.113.6', '203.0.113.5', '10.0.0.1, 203.0.113.6'])).toEqual([
      101, 101, 101, 429, 101,
    ])
  })

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    s = await startServer({ connectionsPerAddress: 2, trustedProxies: ['10.0.0.0/8'] })
    expect(await statuses(s.server.webSocketUrl, ['203.0.113.5', '203.0.113.6', '203.0.113.7'])).toEqual([101, 101, 429])
  })

  it('is configured by PARLEY_TRUSTED_PROXIES, unset by default', () => {
    expect(loadConfig({})).toMatchObject({ ok: true, value: { trustedProxies: [] } })
    expect(loadConfig({ PARLEY_TRUSTED_PROXIES: '10.0.0.1,172.16.0.0/12' })).toMatchObject({
      ok: true,
      value: { trustedProxies: ['10.0.0.1', '172.16.0.0/12'] },
    })
  })
})
