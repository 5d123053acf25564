/**
 * The APNs sender's provider token and connection, against the local HTTP/2 + TLS peer: one
 * HTTP/2 session for every send, closed by `close()`; the provider token (ES256, `kid`, `iss`,
 * `iat`) reused, made again once it is 50 minutes old, and on 403 ExpiredProviderToken, but never
 * more often than every 20 minutes (Apple answers TooManyProviderTokenUpdates to that): until
 * then the send is retried later with the same token. Only `Date` is faked, to move the clock.
 */
import { decodeJwt } from 'jose'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { DeviceRecord } from '../../core/delivery/devices.ts'
import type { PushMessage, PushSender } from '../../core/delivery/senders.ts'
import { createApnsSender } from '../../server/delivery/apns.ts'
import { startApnsPeer, type ApnsPeer } from '../helpers/apns-peer.ts'
import { waitFor } from '../helpers/wait.ts'

const MESSAGE: PushMessage = {
  notificationId: 'm_1',
  kind: 'mention',
  title: 'Ana mentioned you',
  body: 'look @Ben',
  subjectId: 'post-1',
  threadId: 't1',
  collapseId: 'm_1',
  badge: 1,
  urgency: 'high',
  url: undefined,
}
const MINUTE = 60_000

const device = (token: string): DeviceRecord => ({ id: `d_${token}`, userId: 'ben', platform: 'apns', token, createdAt: 0, lastSentAt: null })
const jwtOf = (request: { headers: Record<string, string> } | undefined) => request?.headers.authorization?.slice('bearer '.length) ?? ''

describe('APNs provider token and session', () => {
  let peer: ApnsPeer
  let sender: PushSender
  let start: number
  beforeEach(async () => {
    peer = await startApnsPeer()
    sender = createApnsSender({
      key: peer.key,
      keyId: peer.keyId,
      teamId: peer.teamId,
      topic: peer.topic,
      production: false,
      host: '127.0.0.1',
      port: peer.port,
      ca: [peer.ca],
    })
    start = Date.now()
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(start)
  })
  afterEach(async () => {
    vi.useRealTimers()
    await sender.close()
    await peer.close()
  })

  it('sends everything over one HTTP/2 session, which close() ends', async () => {
    for (const token of ['aa01', 'aa02', 'aa03']) expect(await sender.send(device(token), MESSAGE)).toEqual({ status: 'sent' })
    await Promise.all(['bb01', 'bb02', 'bb03'].map(async (token) => expect(await sender.send(device(token), MESSAGE)).toEqual({ status: 'sent' })))
    expect(peer.requests).toHaveLength(6)
    expect(peer.sessions).toEqual({ opened: 1, open: 1 })
    await sender.close()
    await waitFor(() => peer.sessions.open === 0, 'the session closed')
    expect(await sender.send(device('cc01'), MESSAGE)).toMatchObject({ status: 'retry' })
    expect(peer.requests).toHaveLength(6)
  })

  it('makes a new provider token after 50 minutes, and on ExpiredProviderToken no more often than every 20 minutes', async () => {
    expect(await sender.send(device('aa01'), MESSAGE)).toEqual({ status: 'sent' })
    const first = jwtOf(peer.requests[0])
    expect(decodeJwt(first).iat).toBe(Math.floor(start / 1000))

    // 10 minutes on, Apple says the token expired: too early for another; retried later, same token twice.
    vi.setSystemTime(start + 10 * MINUTE)
    peer.answer = (request) => (jwtOf(request) === first ? { status: 403, reason: 'ExpiredProviderToken' } : { status: 200 })
    expect(await sender.send(device('aa02'), MESSAGE)).toMatchObject({ status: 'retry', reason: 'ExpiredProviderToken' })
    expect(peer.requests.slice(1).map(jwtOf)).toEqual([first, first])

    // 21 minutes on: the refusal makes a new token, and the same send goes through with it.
    vi.setSystemTime(start + 21 * MINUTE)
    expect(await sender.send(device('aa02'), MESSAGE)).toEqual({ status: 'sent' })
    const [refused, renewed] = peer.requests.slice(3)
    expect(jwtOf(refused)).toBe(first)
    const second = jwtOf(renewed)
    expect(second).not.toBe(first)
    expect(decodeJwt(second).iat).toBe(Math.floor((start + 21 * MINUTE) / 1000))
    expect(renewed?.authError).toBeNull()

    // Reused until it is 50 minutes old, then made again before any refusal.
    peer.answer = () => ({ status: 200 })
    vi.setSystemTime(start + (21 + 49) * MINUTE)
    expect(await sender.send(device('aa03'), MESSAGE)).toEqual({ status: 'sent' })
    expect(jwtOf(peer.requests.at(-1))).toBe(second)
    vi.setSystemTime(start + (21 + 51) * MINUTE)
    expect(await sender.send(device('aa04'), MESSAGE)).toEqual({ status: 'sent' })
    const third = jwtOf(peer.requests.at(-1))
    expect(third).not.toBe(second)
    expect(decodeJwt(third).iat).toBe(Math.floor((start + 72 * MINUTE) / 1000))
    expect(peer.requests).toHaveLength(7)
  })
})
