/**
 * Contract additions, "Devices" (FCM HTTP v1): against a local OAuth2 token endpoint and FCM
 * endpoint over HTTPS, the assertion is verified, the access token fetched once and reused, and
 * fetched again once on a 401; UNREGISTERED and an invalid-token INVALID_ARGUMENT remove the
 * device, a payload INVALID_ARGUMENT does not; quota and outages retry after Retry-After. An
 * unusable service account file is one line naming the variable.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DeviceRecord } from '../../core/delivery/devices.ts'
import type { PushMessage, PushSender } from '../../core/delivery/senders.ts'
import { createFcmSender, readServiceAccount } from '../../server/delivery/fcm.ts'
import { fcmErrorBody, startFcmPeer, type FcmPeer } from '../helpers/fcm-peer.ts'
import { tempDir } from '../helpers/server.ts'

const MESSAGE: PushMessage = {
  notificationId: 't_1',
  kind: 'thread',
  title: 'Ana started a thread',
  body: 'a new topic',
  subjectId: 'post-1',
  threadId: 't1',
  collapseId: 't_1',
  badge: 4,
  urgency: 'normal',
  url: 'https://app.example.com/s/post-1',
}

const device = (token: string): DeviceRecord => ({ id: `d_${token}`, userId: 'ben', platform: 'fcm', token, createdAt: 0, lastSentAt: null })

describe('FCM sender', () => {
  let peer: FcmPeer
  let sender: PushSender
  beforeEach(async () => {
    peer = await startFcmPeer()
    sender = createFcmSender({ account: peer.account, endpoint: peer.origin, ca: [peer.ca] })
  })
  afterEach(async () => {
    await sender.close()
    await peer.close()
  })

  it('fetches the access token once with a verified assertion, reuses it, and fetches again once on a 401', async () => {
    expect(await sender.send(device('phone-1'), MESSAGE)).toEqual({ status: 'sent' })
    expect(await sender.send(device('phone-2'), MESSAGE)).toEqual({ status: 'sent' })
    expect(peer.tokenRequests).toEqual([{ ok: true, error: null }])
    expect(peer.sends[0]?.message).toEqual({
      token: 'phone-1',
      notification: { title: 'Ana started a thread', body: 'a new topic' },
      data: { notificationId: 't_1', kind: 'thread', subjectId: 'post-1', badge: '4', threadId: 't1', url: 'https://app.example.com/s/post-1' },
      android: { collapse_key: 't_1', priority: 'NORMAL', notification: { tag: 't_1' } },
    })
    peer.revokeToken()
    expect(await sender.send(device('phone-3'), MESSAGE)).toEqual({ status: 'sent' })
    expect(peer.tokenRequests).toHaveLength(2)
    expect(peer.sends.map((s) => s.authorized)).toEqual([true, true, false, true])
  })

  it('maps FCM errors: gone, failed (device kept), retry after Retry-After', async () => {
    const answers: Record<string, { status: number; body?: unknown; retryAfter?: number }> = {
      unregistered: { status: 404, body: fcmErrorBody('NOT_FOUND', 'UNREGISTERED') },
      badToken: { status: 400, body: fcmErrorBody('INVALID_ARGUMENT', 'INVALID_ARGUMENT', true) },
      badPayload: { status: 400, body: fcmErrorBody('INVALID_ARGUMENT', 'INVALID_ARGUMENT') },
      mismatch: { status: 403, body: fcmErrorBody('PERMISSION_DENIED', 'SENDER_ID_MISMATCH') },
      quota: { status: 429, body: fcmErrorBody('RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED'), retryAfter: 9 },
      down: { status: 503, body: fcmErrorBody('UNAVAILABLE', 'UNAVAILABLE') },
      internal: { status: 500, body: fcmErrorBody('INTERNAL', 'INTERNAL') },
      apnsAuth: { status: 401, body: fcmErrorBody('UNAUTHENTICATED', 'THIRD_PARTY_AUTH_ERROR') },
    }
    peer.answer = (send) => answers[send.token] ?? { status: 200 }
    const outcomes: Record<string, unknown> = {}
    for (const token of Object.keys(answers)) outcomes[token] = await sender.send(device(token), MESSAGE)
    expect(outcomes).toMatchObject({
      unregistered: { status: 'gone' },
      badToken: { status: 'gone' },
      badPayload: { status: 'failed' },
      mismatch: { status: 'gone' },
      quota: { status: 'retry', retryAfterMs: 9_000 },
      down: { status: 'retry' },
      internal: { status: 'retry' },
      apnsAuth: { status: 'failed' },
    })
  })

  it('refuses a service account file without what it needs, naming the variable', () => {
    const dir = tempDir('parley-fcm-')
    const file = path.join(dir, 'account.json')
    writeFileSync(file, JSON.stringify({ ...peer.account, token_uri: undefined }))
    expect(() => readServiceAccount(file)).toThrow(/^invalid FCM_SERVICE_ACCOUNT_FILE: .* without token_uri$/)
    writeFileSync(file, 'not json')
    expect(() => readServiceAccount(file)).toThrow(/^invalid FCM_SERVICE_ACCOUNT_FILE: cannot read/)
    writeFileSync(file, JSON.stringify(peer.account))
    expect(readServiceAccount(file).project_id).toBe('parley-test')
  })
})
