/**
 * Contract additions, "Devices" (Web Push): the sender speaks to a local HTTPS push service that
 * verifies the VAPID JWT and decrypts the aes128gcm payload (RFC 8291); TTL, urgency and topic
 * headers are set; 404 and 410 remove the subscription, 429 and 503 retry after Retry-After, other
 * refusals fail for good. Bad VAPID keys are a one-line configuration error naming the variable.
 */
import webpush from 'web-push'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DeviceRecord } from '../../core/delivery/devices.ts'
import type { PushMessage, PushSender } from '../../core/delivery/senders.ts'
import { checkVapid, createWebPushSender, WEB_PUSH_TTL_SECONDS } from '../../server/delivery/web-push.ts'
import { startWebPushPeer, type WebPushPeer } from '../helpers/webpush-peer.ts'

const MESSAGE: PushMessage = {
  notificationId: 'r_abc',
  kind: 'reply',
  title: 'Ana replied',
  body: 'sounds good',
  subjectId: 'post-1',
  threadId: 't1',
  collapseId: 'r_abc',
  badge: 2,
  urgency: 'normal',
  url: undefined,
}

describe('Web Push sender', () => {
  let peer: WebPushPeer
  let sender: PushSender
  const keys = webpush.generateVAPIDKeys()
  beforeEach(async () => {
    peer = await startWebPushPeer()
    sender = createWebPushSender({ publicKey: keys.publicKey, privateKey: keys.privateKey, subject: 'mailto:ops@example.com', ca: [peer.ca] })
  })
  afterEach(async () => {
    await sender.close()
    await peer.close()
  })

  const device = (name: string): DeviceRecord => ({
    id: `d_${name}`,
    userId: 'ben',
    platform: 'webpush',
    token: JSON.stringify(peer.subscription(name)),
    createdAt: 0,
    lastSentAt: null,
  })

  it('sends an encrypted payload under VAPID with TTL, urgency and topic', async () => {
    expect(await sender.send(device('laptop'), MESSAGE)).toEqual({ status: 'sent' })
    const [request] = peer.requests
    expect(request?.authError).toBeNull()
    expect(request?.headers).toMatchObject({ ttl: '14400', urgency: 'normal', topic: 'r_abc', 'content-encoding': 'aes128gcm' })
    expect(request?.payload).toEqual({
      title: 'Ana replied',
      body: 'sounds good',
      notificationId: 'r_abc',
      kind: 'reply',
      subjectId: 'post-1',
      threadId: 't1',
      badge: 2,
    })
  })

  it('keeps a high-urgency message (a mention, an urgent notification) for a day, a normal one for 4 hours', async () => {
    expect(await sender.send(device('phone'), { ...MESSAGE, urgency: 'high' })).toEqual({ status: 'sent' })
    const request = peer.requests.at(-1)
    expect(request?.headers).toMatchObject({ ttl: String(WEB_PUSH_TTL_SECONDS.high), urgency: 'high' })
    expect(WEB_PUSH_TTL_SECONDS).toEqual({ high: 86_400, normal: 14_400 })
  })

  it('maps answers: 404 and 410 gone, 429 and 503 retry after Retry-After, 400 fails', async () => {
    const answers: Record<string, { status: number; retryAfter?: number }> = {
      gone404: { status: 404 },
      gone410: { status: 410 },
      busy: { status: 429, retryAfter: 7 },
      down: { status: 503, retryAfter: 2 },
      bad: { status: 400 },
    }
    peer.answer = (request) => answers[request.name] ?? { status: 201 }
    const outcomes: Record<string, unknown> = {}
    for (const name of Object.keys(answers)) outcomes[name] = await sender.send(device(name), MESSAGE)
    expect(outcomes).toMatchObject({
      gone404: { status: 'gone' },
      gone410: { status: 'gone' },
      busy: { status: 'retry', retryAfterMs: 7_000 },
      down: { status: 'retry', retryAfterMs: 2_000 },
      bad: { status: 'failed' },
    })
  })

  it('refuses bad VAPID settings with a message naming the variable', () => {
    expect(checkVapid({ publicKey: keys.publicKey, privateKey: keys.privateKey, subject: 'mailto:ops@example.com' })).toBeNull()
    expect(checkVapid({ publicKey: 'short', privateKey: keys.privateKey, subject: 'mailto:ops@example.com' })).toMatch(/^invalid VAPID_PUBLIC_KEY: /)
    expect(checkVapid({ publicKey: keys.publicKey, privateKey: 'short', subject: 'mailto:ops@example.com' })).toMatch(/^invalid VAPID_PRIVATE_KEY: /)
    expect(checkVapid({ publicKey: keys.publicKey, privateKey: keys.privateKey, subject: 'not a url' })).toMatch(/^invalid VAPID_SUBJECT: /)
  })
})
