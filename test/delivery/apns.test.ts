/**
 * Contract additions, "Devices" (APNs): the sender speaks to a local HTTP/2 + TLS peer with token
 * auth, with every header and the payload the contract names, and maps answers to outcomes: 410,
 * BadDeviceToken and DeviceTokenNotForTopic remove the device, 429 and 5xx retry, a payload error
 * fails for good.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DeviceRecord } from '../../core/delivery/devices.ts'
import type { PushMessage, PushSender } from '../../core/delivery/senders.ts'
import { createApnsSender } from '../../server/delivery/apns.ts'
import { startApnsPeer, type ApnsPeer } from '../helpers/apns-peer.ts'

const MESSAGE: PushMessage = {
  notificationId: 'm_1',
  kind: 'mention',
  title: 'Ana mentioned you',
  body: 'look @Ben',
  subjectId: 'post-1',
  threadId: 't1',
  collapseId: 'm_1',
  badge: 3,
  urgency: 'high',
  url: 'https://app.example.com/s/post-1',
}

function device(token: string): DeviceRecord {
  return { id: `d_${token}`, userId: 'ben', platform: 'apns', token, createdAt: 0, lastSentAt: null }
}

describe('APNs sender', () => {
  let peer: ApnsPeer
  let sender: PushSender
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
  })
  afterEach(async () => {
    await sender.close()
    await peer.close()
  })

  it('sends with token auth, the contract’s headers and payload', async () => {
    expect(await sender.send(device('aa11'), MESSAGE)).toEqual({ status: 'sent' })
    expect(await sender.send(device('bb22'), { ...MESSAGE, urgency: 'normal', threadId: null, collapseId: 'r_2' })).toEqual({ status: 'sent' })
    const [first, second] = peer.requests
    expect(first?.authError).toBeNull()
    expect(first?.token).toBe('aa11')
    expect(first?.headers).toMatchObject({ 'apns-topic': peer.topic, 'apns-push-type': 'alert', 'apns-priority': '10', 'apns-collapse-id': 'm_1' })
    expect(first?.payload).toMatchObject({
      aps: { alert: { title: 'Ana mentioned you', body: 'look @Ben' }, badge: 3, 'thread-id': 't1' },
      notificationId: 'm_1',
      kind: 'mention',
      subjectId: 'post-1',
      url: 'https://app.example.com/s/post-1',
    })
    expect(second?.headers['apns-priority']).toBe('5')
    expect(second?.payload.aps['thread-id']).toBeUndefined()
    // One provider token for both requests.
    expect(second?.headers.authorization).toBe(first?.headers.authorization)
  })

  it('maps answers: dead tokens are gone, throttling and outages retry, payload errors fail', async () => {
    const answers: Record<string, { status: number; reason?: string; retryAfter?: number }> = {
      a1: { status: 410, reason: 'Unregistered' },
      a2: { status: 400, reason: 'BadDeviceToken' },
      a3: { status: 400, reason: 'DeviceTokenNotForTopic' },
      a4: { status: 429, reason: 'TooManyRequests', retryAfter: 3 },
      a5: { status: 500, reason: 'InternalServerError' },
      a6: { status: 503, reason: 'ServiceUnavailable' },
      a7: { status: 400, reason: 'PayloadTooLarge' },
    }
    peer.answer = (request) => answers[request.token] ?? { status: 200 }
    const outcomes = Object.fromEntries(
      await Promise.all(Object.keys(answers).map(async (token) => [token, (await sender.send(device(token), MESSAGE)).status])),
    )
    expect(outcomes).toEqual({ a1: 'gone', a2: 'gone', a3: 'gone', a4: 'retry', a5: 'retry', a6: 'retry', a7: 'failed' })
    expect(peer.requests).toHaveLength(7)
    expect(await sender.send(device('a4'), MESSAGE)).toEqual({ status: 'retry', reason: 'TooManyRequests', retryAfterMs: 3_000 })
  })

  it('retries a peer that is not there', async () => {
    await peer.close()
    const outcome = await sender.send(device('cc33'), MESSAGE)
    expect(outcome.status).toBe('retry')
  })
})
