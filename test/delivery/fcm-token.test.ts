/**
 * FCM HTTP v1 against the local OAuth2 token endpoint and FCM endpoint (HTTPS), with the sender's
 * clock injected: the access token is reused until a minute before it expires (the peer grants
 * 3600 s), then fetched again; THIRD_PARTY_AUTH_ERROR fails the send and logs an operator error.
 */
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DeviceRecord } from '../../core/delivery/devices.ts'
import type { PushMessage, PushSender } from '../../core/delivery/senders.ts'
import { createFcmSender } from '../../server/delivery/fcm.ts'
import { fcmErrorBody, startFcmPeer, type FcmPeer } from '../helpers/fcm-peer.ts'

const MESSAGE: PushMessage = {
  notificationId: 'r_1',
  kind: 'reply',
  title: 'Ana replied',
  body: 'ok',
  subjectId: 'post-1',
  threadId: 't1',
  collapseId: 'r_1',
  badge: 1,
  urgency: 'normal',
  url: undefined,
}
/** The lifetime the peer grants an access token (its `expires_in`), in ms. */
const TOKEN_LIFETIME_MS = 3_600_000

const device = (token: string): DeviceRecord => ({ id: `d_${token}`, userId: 'ben', platform: 'fcm', token, createdAt: 0, lastSentAt: null })

describe('FCM access token lifetime and operator errors', () => {
  let peer: FcmPeer
  let sender: PushSender
  let clock: number
  let errors: Array<Record<string, unknown>>
  beforeEach(async () => {
    peer = await startFcmPeer()
    errors = []
    // The clock starts 59 minutes back, so every assertion it signs is valid for the peer's real clock.
    clock = Date.now() - 59 * 60_000
    sender = createFcmSender({
      account: peer.account,
      endpoint: peer.origin,
      ca: [peer.ca],
      now: () => clock,
      logger: pino({ level: 'error' }, { write: (line: string) => errors.push(JSON.parse(line) as Record<string, unknown>) }),
    })
  })
  afterEach(async () => {
    await sender.close()
    await peer.close()
  })

  it('reuses the access token until a minute before it expires, then fetches another', async () => {
    const fetchedAt = clock
    expect(await sender.send(device('p1'), MESSAGE)).toEqual({ status: 'sent' })
    clock = fetchedAt + TOKEN_LIFETIME_MS - 60_000 - 1_000
    expect(await sender.send(device('p2'), MESSAGE)).toEqual({ status: 'sent' })
    expect(peer.tokenRequests).toEqual([{ ok: true, error: null }])
    clock = fetchedAt + TOKEN_LIFETIME_MS - 60_000 + 1
    expect(await sender.send(device('p3'), MESSAGE)).toEqual({ status: 'sent' })
    expect(peer.tokenRequests).toEqual([
      { ok: true, error: null },
      { ok: true, error: null },
    ])
    expect(peer.sends.map((s) => s.authorized)).toEqual([true, true, true])
  })

  it('fails a THIRD_PARTY_AUTH_ERROR and logs an operator error; other failures log nothing at error level', async () => {
    peer.answer = (send) =>
      send.token === 'ios-via-fcm'
        ? { status: 401, body: fcmErrorBody('UNAUTHENTICATED', 'THIRD_PARTY_AUTH_ERROR') }
        : { status: 400, body: fcmErrorBody('INVALID_ARGUMENT', 'INVALID_ARGUMENT') }
    expect(await sender.send(device('payload'), MESSAGE)).toMatchObject({ status: 'failed' })
    expect(errors).toEqual([])
    expect(await sender.send(device('ios-via-fcm'), MESSAGE)).toMatchObject({ status: 'failed', reason: expect.stringContaining('THIRD_PARTY_AUTH_ERROR') })
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ level: 50, msg: expect.stringMatching(/credentials/), reason: expect.stringContaining('THIRD_PARTY_AUTH_ERROR') })
  })
})
